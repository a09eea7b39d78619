// ESLint for the JavaScript we ship and the Node tools beside it; `make lint` runs it. ESLint and its
// packages are pinned in tools/eslint/package.json (installed there by `make install`), so they are
// resolved from that folder rather than from a node_modules at the root.
import { createRequire } from 'node:module';

const require = createRequire(new URL('./tools/eslint/package.json', import.meta.url));
const js = require('@eslint/js');
const globals = require('globals');

// What the shipped code may rely on: Shopify's storefronts support the current browsers, and optional
// chaining (ES2020) is the newest syntax the scripts use; anything newer is an error here first.
const SHIPPED = { ecmaVersion: 2020 };

// Storefront code must never break the merchant's theme, and the pixel never throws into Shopify's
// sandbox: each file swallows errors in exactly one function, quietly(fn, fallback), and every caller
// says why in a comment.
const ONE_GUARD = {
  'no-restricted-syntax': ['error', {
    selector: 'TryStatement',
    message: 'Call quietly(fn, fallback), with a comment saying why this may throw.',
  }],
};

const RULES = {
  eqeqeq: ['error', 'always', { null: 'ignore' }], // `x == null` is the one loose comparison we use
  'no-var': 'error',
  'prefer-const': 'error',
  'no-implicit-coercion': ['error', { boolean: false }],
};

export default [
  { ignores: ['**/node_modules/', '.venv/', 'var/', 'tests/', 'bench/', 'mlruns/', '.cache/'] },
  js.configs.recommended,
  { rules: RULES },
  {
    // Plain scripts loaded with <script src> into the merchant's theme: no modules, no bundler.
    files: ['theme_extension/assets/**/*.js'],
    languageOptions: { ...SHIPPED, sourceType: 'script', globals: globals.browser },
    rules: ONE_GUARD,
  },
  {
    // The web pixel: ES modules that Shopify's CLI bundles into a sandboxed web worker.
    files: ['web_pixel/src/**/*.js'],
    languageOptions: { ...SHIPPED, sourceType: 'module', globals: globals.worker },
    rules: ONE_GUARD,
  },
  {
    files: ['web_pixel/test/**/*.js', 'tools/**/*.mjs', 'eslint.config.mjs'],
    languageOptions: { ecmaVersion: 'latest', sourceType: 'module', globals: globals.node },
  },
];
