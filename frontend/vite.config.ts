import { defineConfig } from 'vite';

// The bundles are served by Django's staticfiles under fixed names
// (static/desk/desk.js + desk.css for the desk, static/desk/audit.js +
// audit.css for the audit page, static/desk/risk.js + risk.css for the risk
// console, static/desk/halts.js + halts.css for the halts page), so the
// templates never need a manifest
// lookup: no hashes, one JS file and one stylesheet per page.
//
// The pages share modules (src/shared/: the socket, the REST plumbing, the reason dialog).
// Built together, Rolldown would move those into shared chunks that the templates do not load,
// so each page is its own build, selected by the mode: `vite build --mode halts`. `npm run
// build` empties the output directory and runs all four; no build empties it itself, as the
// four watchers of `npm run watch` would then delete each other's files.
const PAGES: Record<string, string> = {
  desk: 'src/main.ts',
  audit: 'src/audit.ts',
  risk: 'src/risk.ts',
  halts: 'src/halts.ts',
};

export default defineConfig(({ mode }) => {
  const entry = PAGES[mode];
  if (entry === undefined) {
    throw new Error(`Build one page with --mode ${Object.keys(PAGES).join('|')}, or all with npm run build.`);
  }
  return {
    root: '.',
    publicDir: false,
    build: {
      outDir: '../static/desk',
      emptyOutDir: false,
      target: 'es2022',
      cssCodeSplit: true,
      modulePreload: false,
      sourcemap: false,
      rolldownOptions: {
        input: { [mode]: entry },
        output: {
          format: 'es',
          entryFileNames: '[name].js',
          // One page per build, no lazy routes: nothing to split, so the page is one file.
          codeSplitting: false,
          // The page's stylesheet takes the page's name (the desk's entry imports desk.css).
          assetFileNames: (asset) =>
            asset.names.some((n) => n.endsWith('.css')) ? `${mode}.css` : '[name][extname]',
        },
      },
    },
  };
});
