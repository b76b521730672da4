// The examples load every package's sources, and some of their dependencies are ESM-only (p-limit,
// file-type): let @swc/jest transform node_modules too, as those packages' own configs do.
module.exports = require('../../jest.preset.cjs')(__dirname, { transformIgnorePatterns: [] });
