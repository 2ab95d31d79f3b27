// Checks catalog entities as Backstage's catalog backend does when it reads them,
// with its own code (@backstage/plugin-catalog-backend, @backstage/catalog-model,
// @backstage/plugin-scaffolder-common): placeholders such as `$text: ./openapi.json`
// resolved by the catalog's PlaceholderProcessor, as if the file had been
// registered from a GitHub repository whose files are the file's directory; then
// the catalog's default entity policies (envelope, default namespace, no foreign
// root fields, field formats, schema), the validator of the entity's kind, and
// every entity reference in its spec parsed as the catalog parses it, its target
// held to the catalog's rules for names.
//
// Usage: node catalog.cjs <file.yaml>... Prints one JSON object: for each file,
// the list of problems over all its documents (empty when the catalog accepts it).
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const yaml = require('yaml');
const { ConfigReader } = require('@backstage/config');
const { ScmIntegrations } = require('@backstage/integration');
const { PlaceholderProcessor } = require('@backstage/plugin-catalog-backend');
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

// The catalog's own resolvers for $json, $yaml and $text, which its package does
// not export: loaded from the file its CatalogBuilder takes them from.
const RESOLVERS = (() => {
  const root = path.dirname(require.resolve('@backstage/plugin-catalog-backend/package.json'));
  const placeholders = require(path.join(root, 'dist/processors/PlaceholderProcessor.cjs.js'));
  return {
    json: placeholders.jsonPlaceholderResolver,
    yaml: placeholders.yamlPlaceholderResolver,
    text: placeholders.textPlaceholderResolver,
  };
})();
// The repository a checked file stands in for: its directory is the repository's root.
const REPOSITORY = 'https://github.com/example/service/blob/main/';

// A stand-in for the catalog's GitHub reader: a file of the repository is the file
// of the same path in ``directory``; nothing outside the repository can be read.
function placeholders(directory) {
  const reader = {
    async readUrl(url) {
      // GitHub's URLs name a file with /blob/ or /tree/ alike.
      const inRepository = url.match(/^https:\/\/github\.com\/example\/service\/(?:blob|tree)\/main\/(.+)$/);
      if (!inRepository) throw new Error(`${url} is not in ${REPOSITORY}`);
      const file = path.join(directory, decodeURIComponent(inRepository[1]));
      const content = fs.readFileSync(file);
      return { buffer: async () => content };
    },
  };
  return new PlaceholderProcessor({
    resolvers: RESOLVERS,
    reader,
    integrations: ScmIntegrations.fromConfig(new ConfigReader({})),
  });
}

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

async function problems(entity, file) {
  const found = [];
  try {
    const location = { type: 'url', target: REPOSITORY + path.basename(file) };
    let checked = await placeholders(path.dirname(file)).preProcessEntity(entity, location, () => {});
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
      report[file].push(...(await problems(document.toJS(), path.resolve(file))));
    }
  }
  process.stdout.write(JSON.stringify(report));
}

main().catch(error => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
