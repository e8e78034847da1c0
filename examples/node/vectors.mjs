// sm-crypto's verdict on every filing-signature vector (contracts/vectors/filing-signature.json):
// keys derived from their private keys, digests, and each signature valid or not, raw or DER.
//
//     node examples/node/vectors.mjs [contracts/vectors/filing-signature.json]
//
// Prints one line per check and exits 1 if any disagrees with the vectors.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import smCrypto from 'sm-crypto';

const { sm2, sm3 } = smCrypto;
const HERE = dirname(fileURLToPath(import.meta.url));
const file = process.argv[2] || join(HERE, '..', '..', 'contracts', 'vectors', 'filing-signature.json');
const vectors = JSON.parse(readFileSync(file, 'utf8'));
const userId = vectors.user_id;
let agree = 0;
let disagree = 0;

function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (ok) agree++; else disagree++;
}

const keys = Object.fromEntries(vectors.keys.map((k) => [k.name, k]));
for (const key of vectors.keys) {
  check(sm2.getPublicKeyFromPrivateKey(key.private_key_hex) === key.public_key_hex, `key ${key.name}`);
}
const messages = Object.fromEntries(vectors.messages.map((m) => [m.name, Array.from(Buffer.from(m.base64, 'base64'))]));
for (const m of vectors.messages) check(sm3(messages[m.name]) === m.sm3, `sm3 of ${m.name}`);

for (const c of vectors.signatures) {
  const der = c.encoding === 'der';
  let verdict;
  try {
    verdict = sm2.doVerifySignature(messages[c.message], c.signature, keys[c.key].public_key_hex, { hash: true, der, userId });
  } catch {
    verdict = false; // a signature the library cannot even decode is no valid one
  }
  check(verdict === c.valid, `signature ${c.key} over ${c.message} (${c.encoding}, ${c.made_by}): ${verdict ? 'valid' : 'invalid'}`);
}

// A signature made here verifies, and fails over the register with one byte changed.
const register = messages.register;
const legal = keys.legal_representative;
const mine = sm2.doSignature(register, legal.private_key_hex, { hash: true, publicKey: legal.public_key_hex, userId });
const changed = register.slice();
changed[changed.length - 2] ^= 1;
check(
  sm2.doVerifySignature(register, mine, legal.public_key_hex, { hash: true, userId })
    && !sm2.doVerifySignature(changed, mine, legal.public_key_hex, { hash: true, userId }),
  'own signature round trip',
);
console.log(`node vectors: ${agree} agree, ${disagree} disagree`);
process.exit(disagree ? 1 : 0);
