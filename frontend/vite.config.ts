import { defineConfig } from 'vite';

// The bundles are served by Django's staticfiles under fixed names
// (static/desk/desk.js + desk.css for the desk, static/desk/audit.js +
// audit.css for the audit page, static/desk/risk.js + risk.css for the risk
// console, static/desk/halts.js + halts.css for the halts page), so the
// templates never need a manifest
// lookup: no hashes, one JS file and one stylesheet per page.
export default defineConfig({
  root: '.',
  publicDir: false,
  build: {
    outDir: '../static/desk',
    emptyOutDir: true,
    target: 'es2022',
    // One stylesheet per entry: the audit page's rules stay out of desk.css.
    cssCodeSplit: true,
    modulePreload: false,
    sourcemap: false,
    rolldownOptions: {
      input: { desk: 'src/main.ts', audit: 'src/audit.ts', risk: 'src/risk.ts', halts: 'src/halts.ts' },
      output: {
        format: 'es',
        entryFileNames: '[name].js',
        chunkFileNames: 'desk-[name].js',
        assetFileNames: (asset) => {
          if (asset.names.includes('audit.css')) return 'audit.css';
          if (asset.names.includes('risk.css')) return 'risk.css';
          if (asset.names.includes('halts.css')) return 'halts.css';
          return asset.names.some((n) => n.endsWith('.css')) ? 'desk.css' : '[name][extname]';
        },
        // Several entries need splitting on (Rolldown refuses `false` with several inputs), but
        // no page has lazy routes, and the audit and risk pages import no desk module, so each
        // entry is still one self-contained file and no shared chunk is emitted.
        codeSplitting: true,
      },
    },
  },
});
