/**
 * Page frame: top bar with the app name and main links. Server component; pages wrap their
 * content in it (app/layout.tsx only mounts providers).
 */
import Link from 'next/link';
import type { ReactNode } from 'react';
import '../globals.css';

export function Shell({ children }: { children: ReactNode }) {
  return (
    <>
      <header className="topbar">
        <Link href="/" className="brand">petromap</Link>
        <nav>
          <Link href="/">Projects</Link>
          <Link href="/jobs">Jobs</Link>
          <Link href="/workers">Workers</Link>
        </nav>
        <span style={{ flex: 1 }} />
        <span className="small" style={{ color: '#9aa6b8' }}>3D mineral maps from XRM + EDS</span>
      </header>
      <main className="page">{children}</main>
    </>
  );
}
