// Files named on the command line run alone (`npx mocha dist/test/x.test.js`);
// mocha would otherwise add them to the configured spec and run everything.
const named = process.argv.slice(2).some((arg) => !arg.startsWith('-') && arg.endsWith('.js'));
module.exports = {
  spec: named ? [] : ['dist/test/**/*.test.js'],
  timeout: 60000,
  reporter: 'spec',
  exit: true,
};
