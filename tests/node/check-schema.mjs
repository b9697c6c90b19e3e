// Validates scenario files against scenarios/edgesse.schema.json, the way editors do.
// Usage: node check-schema.mjs SCHEMA FILE...
// Prints one JSON object a line: {"file": F, "valid": true|false, "errors": ["/path: message", ...]}.
import { readFileSync } from 'node:fs';
import Ajv from 'ajv';
import { parseDocument } from 'yaml';

const [schemaPath, ...files] = process.argv.slice(2);
if (!schemaPath || files.length === 0) {
  console.error('usage: node check-schema.mjs SCHEMA FILE...');
  process.exit(2);
}
const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')));

for (const file of files) {
  const doc = parseDocument(readFileSync(file, 'utf8'), { uniqueKeys: true });
  let result;
  if (doc.errors.length > 0) {
    result = { file, valid: false, errors: doc.errors.map((e) => `yaml: ${e.message.split('\n')[0]}`) };
  } else {
    const valid = validate(doc.toJS({ maxAliasCount: 1000 }));
    result = { file, valid, errors: valid ? [] : validate.errors.map((e) => `${e.instancePath || '/'}: ${e.message}`) };
  }
  console.log(JSON.stringify(result));
}
