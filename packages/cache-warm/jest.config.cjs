// p-limit 7 is ESM-only: let swc transform it (and its dependency) for jest.
module.exports = require('../../jest.preset.cjs')(__dirname, { transformIgnorePatterns: [] });
