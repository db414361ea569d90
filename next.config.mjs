/** @type {import('next').NextConfig} */
const nextConfig = {
  // Native and wasm-heavy packages stay outside the server bundle: they load their own
  // .node / .wasm files from node_modules at run time.
  serverExternalPackages: [
    'better-sqlite3',
    '@itk-wasm/elastix',
    '@itk-wasm/image-io',
    'itk-wasm',
    '@tensorflow/tfjs-core',
    '@tensorflow/tfjs-layers',
    '@tensorflow/tfjs-backend-wasm',
    '@tensorflow/tfjs-backend-cpu',
    'zarrita',
    '@zarrita/storage',
    'numcodecs',
    'geotiff',
    // the brick queue (lib/cluster) is loaded by the compute host, never bundled; listed in case
    'bullmq',
    'ioredis',
  ],
  // Runtime folders are never part of the build (issue 20): the workspace (PETROMAP_DATA, default
  // ./data) holds users' scans and results. Second line of defence; the first is that server code
  // builds workspace paths with turbopackIgnore hints (server/storage/workspace.ts).
  outputFileTracingExcludes: { '**': ['./data/**/*', './tmp/**/*', './bench/out/**/*', './scratch/**/*', './test-results/**/*'] },
  typedRoutes: false,
  // `npm test` type-checks the whole repo first (tsc --noEmit); the build need not do it twice.
  typescript: { ignoreBuildErrors: true },
  devIndicators: false,
};
export default nextConfig;
