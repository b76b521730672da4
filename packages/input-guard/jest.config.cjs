// file-type is ESM-only: let @swc/jest transform node_modules too.
module.exports = require('../../jest.preset.cjs')(__dirname, { transformIgnorePatterns: [] });
