// One jest run over every package and example; each directory has its own jest.config.cjs.
const fs = require('node:fs');
const path = require('node:path');

const dirs = ['packages', 'examples']
  .flatMap((group) =>
    fs.existsSync(path.join(__dirname, group))
      ? fs.readdirSync(path.join(__dirname, group)).map((name) => path.join(__dirname, group, name))
      : [],
  )
  .filter((dir) => fs.existsSync(path.join(dir, 'jest.config.cjs')));

/** @type {import('jest').Config} */
module.exports = {
  projects: dirs,
  // Global options are read from here, not from the projects: tests talk to real services.
  testTimeout: 30_000,
};
