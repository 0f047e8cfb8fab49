// Style sheets are bundled by esbuild (scripts/build-web.mjs); the import only pulls them into the bundle.
declare module '*.css';
