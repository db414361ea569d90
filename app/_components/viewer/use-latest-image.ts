'use client';
/**
 * Load images for a URL that changes quickly (slider drags): at most one request in flight, and
 * when it finishes the newest wanted URL is loaded next. Intermediate URLs are skipped, and the
 * last good image stays on screen meanwhile so the panel never flashes black.
 */
import { useCallback, useEffect, useRef, useState } from 'react';

export interface LatestImage {
  image: HTMLImageElement | null;
  /** URL of `image` */
  loadedUrl: string | null;
  loading: boolean;
  error: string | null;
}

export function useLatestImage(url: string | null): LatestImage {
  const [state, setState] = useState<LatestImage>({ image: null, loadedUrl: null, loading: false, error: null });
  const wanted = useRef<string | null>(url);
  const attempted = useRef<string | null>(null);
  const busy = useRef(false);
  const mounted = useRef(true);

  const pump = useCallback(() => {
    const u = wanted.current;
    if (busy.current || !u || u === attempted.current) return;
    busy.current = true;
    attempted.current = u;
    setState((s) => ({ ...s, loading: true }));
    const img = new Image();
    const finish = (ok: boolean) => {
      busy.current = false;
      if (mounted.current) {
        if (ok) setState({ image: img, loadedUrl: u, loading: false, error: null });
        else setState((s) => ({ ...s, loading: false, error: `Could not load the slice image (${u.split('?')[0]}).` }));
      }
      pump(); // the URL may have moved on while this one loaded
    };
    img.onload = () => finish(true);
    img.onerror = () => finish(false);
    img.src = u;
  }, []);

  useEffect(() => {
    mounted.current = true;
    wanted.current = url;
    pump();
    return () => {
      mounted.current = false;
    };
  }, [url, pump]);

  return state;
}
