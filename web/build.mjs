// Bundles the web wallet into the node's static files: src/libra/api/wallet/wallet.js.
// Everything the page runs is in that one file; nothing is fetched from the internet.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

await build({
  entryPoints: [here('./src/main.js')],
  outfile: here('../src/libra/api/wallet/wallet.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022', 'chrome100', 'safari15', 'firefox100'],
  minify: true,
  legalComments: 'eof',
  logLevel: 'info',
});
