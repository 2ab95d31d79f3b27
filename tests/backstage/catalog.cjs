// Checks catalog entities as Backstage's catalog backend does when it reads them,
// with its own code (@backstage/catalog-model, @backstage/plugin-scaffolder-common):
// the catalog's default entity policies (envelope, default namespace, no foreign
// root fields, field formats, schema), then the validator of the entity's kind,
// then every entity reference in its spec parsed as the catalog parses it, its
// target held to the catalog's rules for names.
//
// Usage: node catalog.cjs <file.yaml>... Prints one JSON object: for each file,
// the list of problems over all its documents (empty when the catalog accepts it).
'use strict';

const fs = require('node:fs');
const yaml = require('yaml');
const {
  DefaultNamespaceEntityPolicy,
  FieldFormatEntityPolicy,
  NoForeignRootFieldsEntityPolicy,
  SchemaValidEntityPolicy,
  apiEntityV1alpha1Validator,
  componentEntityV1alpha1Validator,
  makeValidator,
  parseEntityRef,
  resourceEntityV1alpha1Validator,
  systemEntityV1alpha1Validator,
} = require('@backstage/catalog-model');
const { templateEntityV1beta3Validator } = require('@backstage/plugin-scaffolder-common');

// The name rules the catalog holds every entity to, for the targets of references.
const RULES = makeValidator();
// The catalog backend's default policies, in its order.
const POLICIES = [
  new SchemaValidEntityPolicy(),
  new DefaultNamespaceEntityPolicy(),
  new NoForeignRootFieldsEntityPolicy(),
  new FieldFormatEntityPolicy(),
];
const VALIDATORS = [
  apiEntityV1alpha1Validator,
  componentEntityV1alpha1Validator,
  resourceEntityV1alpha1Validator,
  systemEntityV1alpha1Validator,
  templateEntityV1beta3Validator,
];
// spec fields that hold entity references, and the kind a bare name defaults to.
const REFERENCES = {
  owner: 'group',
  system: 'system',
  dependsOn: 'component',
  providesApis: 'api',
  consumesApis: 'api',
  subcomponentOf: 'component',
};

async function problems(entity) {
  const found = [];
  try {
    let checked = entity;
    for (const policy of POLICIES) {
      checked = (await policy.enforce(checked)) ?? checked;
    }
    const results = await Promise.all(VALIDATORS.map(validator => validator.check(checked)));
    if (!results.includes(true)) {
      found.push(`no validator accepts kind ${checked.kind} (${checked.apiVersion})`);
    }
  } catch (error) {
    found.push(String(error.message ?? error));
  }
  for (const [field, defaultKind] of Object.entries(REFERENCES)) {
    const value = entity?.spec?.[field];
    for (const reference of value === undefined ? [] : [value].flat()) {
      try {
        const target = parseEntityRef(reference, { defaultKind, defaultNamespace: 'default' });
        if (!RULES.isValidNamespace(target.namespace) || !RULES.isValidEntityName(target.name)) {
          throw new Error(`names no entity the catalog could hold (${target.namespace}/${target.name})`);
        }
      } catch (error) {
        found.push(`spec.${field} ${JSON.stringify(reference)}: ${error.message}`);
      }
    }
  }
  return found;
}

async function main() {
  const report = {};
  for (const file of process.argv.slice(2)) {
    const documents = yaml.parseAllDocuments(fs.readFileSync(file, 'utf8'));
    report[file] = [];
    for (const document of documents) {
      report[file].push(...(await problems(document.toJS())));
    }
  }
  process.stdout.write(JSON.stringify(report));
}

main().catch(error => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
