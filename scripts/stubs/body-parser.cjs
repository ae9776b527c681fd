// Bundle-time stand-in for body-parser (see STUBBED_MODULES in scripts/bundle.mjs): express
// re-exports these parsers, the prober never installs one. Using one fails loudly.
'use strict';

function notBundled(name) {
  return function bodyParserNotBundled() {
    throw new Error(
      `express.${name}() is not in the kubenurse-ts bundle: body-parser is stubbed out by scripts/bundle.mjs (STUBBED_MODULES)`,
    );
  };
}

module.exports = notBundled('bodyParser');
module.exports.json = notBundled('json');
module.exports.raw = notBundled('raw');
module.exports.text = notBundled('text');
module.exports.urlencoded = notBundled('urlencoded');
