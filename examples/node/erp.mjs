// An ERP's side of the hub in Node.js: register an enterprise, register its two SM2 signing keys,
// import its risk points, compile the register once it holds them, sign it (sm-crypto) and file it,
// then follow every department's answer.
//
//     npm ci --prefix examples/node            (make setup does it)
//     node examples/node/erp.mjs [CREDIT_CODE]
//
// Against `make run`: the gateway on 127.0.0.1:50051 (HUB_GATEWAY_ADDRESS), the integrator's
// registration token in var/registration.token (or HUB_REGISTRATION_TOKEN). The signature format is
// contracts/filing-signature.md. Prints one JSON line: the enterprise, the version, its SM3 hash and
// each department's answer; exits 1 with the gRPC code and details when the hub refuses something.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import smCrypto from 'sm-crypto';

const { sm2, sm3 } = smCrypto;
const HERE = dirname(fileURLToPath(import.meta.url));
const PROTOS = process.env.HUB_PROTOS || join(HERE, '..', '..', 'protos');
const ADDRESS = process.env.HUB_GATEWAY_ADDRESS || '127.0.0.1:50051';
// GB/T 32918's default user id: the hub verifies with it (sm-crypto's default too; said here on purpose).
const USER_ID = '1234567812345678';
const FINAL = new Set(['DELIVERY_STATE_ACKNOWLEDGED', 'DELIVERY_STATE_REJECTED', 'DELIVERY_STATE_PARKED']);

const definition = protoLoader.loadSync(['hub/v1/enterprise.proto', 'hub/v1/riskpoint.proto', 'hub/v1/filing.proto'], {
  includeDirs: [PROTOS], keepCase: true, longs: String, enums: String, defaults: true,
});
const hub = grpc.loadPackageDefinition(definition).hub.v1;

function registrationToken() {
  if (process.env.HUB_REGISTRATION_TOKEN) return process.env.HUB_REGISTRATION_TOKEN;
  return readFileSync(join(process.env.HUB_RUNTIME_DIR || 'var', 'registration.token'), 'utf8').trim();
}

function credentials() {
  const ca = process.env.HUB_TLS_CA;
  return ca ? grpc.credentials.createSsl(readFileSync(ca)) : grpc.credentials.createInsecure();
}

function metadata(pairs) {
  const m = new grpc.Metadata();
  for (const [k, v] of Object.entries(pairs)) m.set(k, v);
  return m;
}

function call(client, method, request, meta) {
  return new Promise((resolve, reject) => {
    client[method](request, meta, { deadline: Date.now() + 30_000 }, (error, answer) => (error ? reject(error) : resolve(answer)));
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A bulk import is a bidirectional stream: send the items, end, read one answer per saved page.
function importRiskPoints(client, items, meta) {
  return new Promise((resolve, reject) => {
    const results = [];
    const stream = client.ImportRiskPoints(meta);
    stream.on('data', (page) => results.push(...page.results));
    stream.on('error', reject);
    stream.on('end', () => resolve(results));
    stream.write({ items });
    stream.end();
  });
}

function riskPoints(code) {
  const measures = [
    { type: '制度管理', description: '严格执行安全操作规程，每班巡检' },
    { type: '在线监测', description: '液位、压力在线监测，超限报警' },
  ];
  return [
    { external_id: `${code}-RP-1`, name: '液氨储罐区', location: '东区储罐', category: '设备设施',
      accident_types: ['容器爆炸', '中毒和窒息'], assessment: { method: 'ASSESSMENT_METHOD_LEC', scores: { L: 3, E: 6, C: 40 } },
      responsible_unit: '储运车间', responsible_person: '李安全', responsible_mobile: '13912345678',
      control_measures: measures, emergency_measures: ['启动喷淋，疏散下风向人员'], adjacent_units: ['东邻：相邻企业'] },
    { external_id: `${code}-RP-2`, name: '配电室', location: '综合楼一层', category: '设备设施',
      accident_types: ['触电'], assessment: { method: 'ASSESSMENT_METHOD_LEC', scores: { L: 1, E: 6, C: 7 } },
      responsible_unit: '动力车间', responsible_person: '赵电工', responsible_mobile: '13700000000',
      control_measures: measures.slice(0, 1), emergency_measures: ['切断电源'] },
  ];
}

// The filing service learns of the import from events, a moment after the import was answered:
// compile until the register holds every risk point sent (and a supervising department).
async function compileWhenReady(filings, meta, externalIds) {
  for (let attempt = 0; attempt < 300; attempt++) {
    try {
      const compiled = await call(filings, 'CompileRegister', {}, meta);
      const document = JSON.parse(compiled.canonical_document.toString('utf8'));
      const held = new Set(document.risk_points.map((p) => p.external_id));
      if (externalIds.every((id) => held.has(id)) && document.supervising_departments.length) return compiled;
    } catch (error) {
      if (error.code !== grpc.status.NOT_FOUND) throw error; // the filing service has not heard of us yet
    }
    await sleep(200);
  }
  throw new Error('the register did not come to hold the imported risk points');
}

// SubmitRegister checks the keys the filing service knows: a key registered a moment ago may not have
// reached it yet ("no public key is registered"); try again for a while.
async function submitWhenKeysArrived(filings, request, meta) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call(filings, 'SubmitRegister', request, meta);
    } catch (error) {
      if (!String(error.details).includes('no public key is registered') || attempt > 150) throw error;
      await sleep(200);
    }
  }
}

async function main(creditCode = '91350100M000100Y43') {
  const channel = credentials();
  const enterprises = new hub.EnterpriseService(ADDRESS, channel);
  const riskpoints = new hub.RiskPointService(ADDRESS, channel);
  const filings = new hub.FilingService(ADDRESS, channel);

  // 1. Register; the idempotency key makes a retry answer the same id and secret.
  const registered = await call(enterprises, 'RegisterEnterprise', {
    idempotency_key: `node-erp-${creditCode}`,
    profile: {
      unified_social_credit_code: creditCode, name: '台儿庄区示例化工有限公司', legal_representative: '王五',
      legal_representative_mobile: '13800138000', industry: '化工', address: '张山子镇工业园1号', town: '张山子镇',
      contacts: [{ name: '李安全', role: '安全员', mobile: '13912345678' }],
    },
  }, metadata({ 'x-hub-registration-token': registrationToken() }));
  const own = metadata({ 'x-hub-key-id': registered.key_id, 'x-hub-secret': registered.secret });

  // 2. Two key pairs (legal representative, enterprise seal). The private keys stay with the ERP:
  //    a real one keeps them in its key store or an HSM, never sends them anywhere.
  const keys = { legal_representative: sm2.generateKeyPairHex(), enterprise_seal: sm2.generateKeyPairHex() };
  for (const [role, pair] of Object.entries(keys)) {
    await call(enterprises, 'RegisterSigningKey', { role: `SIGNING_ROLE_${role.toUpperCase()}`, public_key: pair.publicKey }, own);
  }

  // 3. Import the risk points; every item is answered (created, changed, unchanged or rejected).
  const items = riskPoints(creditCode);
  const results = await importRiskPoints(riskpoints, items, own);
  const rejected = results.filter((r) => r.status === 'IMPORT_ITEM_STATUS_REJECTED');
  if (rejected.length) throw new Error(`rejected: ${JSON.stringify(rejected)}`);

  // 4. Compile, and check the bytes received hash to the hub's SM3.
  const compiled = await compileWhenReady(filings, own, items.map((i) => i.external_id));
  const canonical = compiled.canonical_document; // a Buffer: sign these bytes, never a re-serialised document
  if (sm3(Array.from(canonical)) !== compiled.version.document_hash) throw new Error('canonical bytes do not hash to document_hash');

  // 5. Sign with SM3-with-Z (hash: true) and the default user id. sm-crypto answers raw r||s hex;
  //    with der: true, ASN.1 DER hex: the hub takes both (here one of each).
  const sign = (pair, der) => sm2.doSignature(Array.from(canonical), pair.privateKey, { hash: true, der, publicKey: pair.publicKey, userId: USER_ID });
  const request = {
    version: compiled.version.version,
    legal_representative_signature: sign(keys.legal_representative, false),
    enterprise_seal_signature: sign(keys.enterprise_seal, true),
  };
  await submitWhenKeysArrived(filings, request, own);

  // 6. Follow each department's answer: pending -> delivered -> acknowledged (or rejected, with a reason).
  let status;
  for (let attempt = 0; attempt < 600; attempt++) {
    status = (await call(filings, 'GetFilingStatus', { version: compiled.version.version }, own)).version;
    if (status.ledger.length && status.ledger.every((d) => FINAL.has(d.state))) break;
    await sleep(300);
  }
  console.log(JSON.stringify({
    enterprise_id: registered.enterprise_id,
    version: Number(status.version),
    document_hash: status.document_hash,
    ledger: Object.fromEntries(status.ledger.map((d) => [d.department_code, { state: d.state, reason: d.reason }])),
  }));
  for (const client of [enterprises, riskpoints, filings]) client.close();
}

main(process.argv[2]).then(() => process.exit(0), (error) => {
  console.error(error.code !== undefined ? `refused: ${grpc.status[error.code]}: ${error.details}` : String(error));
  process.exit(1);
});
