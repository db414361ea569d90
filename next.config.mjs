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
  ],
  typedRoutes: false,
  // `npm test` type-checks the whole repo first (tsc --noEmit); the build need not do it twice.
  typescript: { ignoreBuildErrors: true },
  devIndicators: false,
};
export default nextConfig;
