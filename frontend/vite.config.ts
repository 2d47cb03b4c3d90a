import { defineConfig } from 'vite';

// The bundle is served by Django's staticfiles under fixed names
// (static/desk/desk.js, static/desk/desk.css), so the templates never need
// a manifest lookup: no hashes, one JS chunk, one stylesheet.
export default defineConfig({
  root: '.',
  publicDir: false,
  build: {
    outDir: '../static/desk',
    emptyOutDir: true,
    target: 'es2022',
    cssCodeSplit: false,
    modulePreload: false,
    sourcemap: false,
    rolldownOptions: {
      input: 'src/main.ts',
      output: {
        format: 'es',
        entryFileNames: 'desk.js',
        chunkFileNames: 'desk-[name].js',
        assetFileNames: (asset) =>
          asset.names.some((n) => n.endsWith('.css')) ? 'desk.css' : '[name][extname]',
        // Everything in one file: the desk has no lazy routes worth splitting.
        codeSplitting: false,
      },
    },
  },
});
