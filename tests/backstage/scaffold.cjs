// Runs template.yaml the way a Backstage scaffolder backend does, with the
// backend's own code: the parameter validation of its task API, its workflow
// runner (step `if`s, `${{ }}` rendering of inputs) and the real actions
// fetch:cookiecutter, fs:delete and fs:rename. Only the steps that would reach
// the network are stand-ins: publish:github and publish:gitlab copy the workspace
// they would push into `outputDir` and record which of them ran and with what,
// and catalog:register records what it would register.
//
// Usage: node scaffold.cjs < request.json, where request.json is a list of
// requests (answered by a list) or one request:
//   {"template": "<path of template.yaml>", "values": {...}, "outputDir": "...",
//    "skipValidation": false}
// `skipValidation` stands for a caller the task API does not check: a fork
// whose template.yaml lost a rule. Prints one JSON object:
//   {"valid": bool, "errors": [...], "ok": bool, "error": "...", "log": [...],
//    "published": {...}, "catalog": {...}}
// With {"template": ..., "validate": [values, ...]} it only runs the task API's
// check on each set of values and prints {"errors": [[...], ...]}.
// cookiecutter is whichever one is first on PATH, as on a scaffolder host.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const yaml = require('yaml');
const jsonschema = require('jsonschema');
const { resolveParameterSteps } = require('@backstage/plugin-scaffolder-common/alpha');
const { ConfigReader } = require('@backstage/config');
const { ScmIntegrations } = require('@backstage/integration');
const {
  createFilesystemDeleteAction,
  createFilesystemRenameAction,
} = require('@backstage/plugin-scaffolder-backend');
const {
  createFetchCookiecutterAction,
} = require('@backstage/plugin-scaffolder-backend-module-cookiecutter');
const { createPublishGithubAction } = require('@backstage/plugin-scaffolder-backend-module-github');
const { createPublishGitlabAction } = require('@backstage/plugin-scaffolder-backend-module-gitlab');

// The runner is not exported; the package's own file is loaded by path.
const backendDist = path.join(
  path.dirname(require.resolve('@backstage/plugin-scaffolder-backend')),
);
const { NunjucksWorkflowRunner } = require(
  path.join(backendDist, 'scaffolder/tasks/NunjucksWorkflowRunner.cjs.js'),
);

// The task API's check: validateParameterSteps, which the backend's router runs
// on every new task before any step, is not exported, so its own source is
// taken from the router and run with the libraries it names.
function backendValidation() {
  const router = fs.readFileSync(path.join(backendDist, 'service/router.cjs.js'), 'utf8');
  const source = router.match(/^function validateParameterSteps\(template, values\) \{\n[\s\S]*?\n\}$/m);
  if (!source) throw new Error('validateParameterSteps is not in the backend any more');
  return new Function('alpha$1', 'jsonschema', `${source[0]}\nreturn validateParameterSteps;`)(
    { resolveParameterSteps },
    jsonschema,
  );
}
const backendValidateParameterSteps = backendValidation();

function validateParameterSteps(template, values) {
  const { result, values: filtered } = backendValidateParameterSteps(template, values);
  return { errors: result ? result.errors.map(String) : [], values: filtered };
}

function logger(lines) {
  const log = (level) => (message) => lines.push(`${level}: ${message}`);
  const self = {
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    debug: () => {},
    child: () => self,
  };
  return self;
}

const noMetric = { add() {}, record() {} };
const metrics = { createCounter: () => noMetric, createHistogram: () => noMetric };

function hasFiles(directory) {
  return fs
    .readdirSync(directory, { withFileTypes: true })
    .some((entry) => !entry.isDirectory() || hasFiles(path.join(directory, entry.name)));
}

function standIns(outputDir, record, integrations) {
  // The real publish actions, whose input schema the runner checks each step's
  // input against, with a handler that pushes nothing: what git would push, the
  // files, goes to outputDir (fs:delete leaves the directories of the files it
  // removes, and git carries no empty directory), and what the step was asked
  // for is recorded.
  const config = new ConfigReader({});
  const publisher = (action, host) => ({
    ...action,
    async handler(ctx) {
      fs.cpSync(ctx.workspacePath, outputDir, {
        recursive: true,
        filter: (source) => !fs.statSync(source).isDirectory() || hasFiles(source),
      });
      ctx.output('remoteUrl', `https://${host}/${ctx.input.repoUrl}`);
      ctx.output('repoContentsUrl', `file://${outputDir}`);
      record.published = { action: action.id, input: ctx.input };
    },
  });
  const register = {
    id: 'catalog:register',
    async handler(ctx) {
      record.catalog = {
        repoContentsUrl: ctx.input.repoContentsUrl,
        catalogInfoPath: ctx.input.catalogInfoPath,
      };
      ctx.output('entityRef', 'component:default/stand-in');
    },
  };
  return [
    publisher(createPublishGithubAction({ integrations, config }), 'github.example'),
    publisher(createPublishGitlabAction({ integrations, config }), 'gitlab.example'),
    register,
  ];
}

async function handle(request) {
  const templatePath = path.resolve(request.template);
  const template = yaml.parse(fs.readFileSync(templatePath, 'utf8'));
  if (request.validate) {
    return { errors: request.validate.map((values) => validateParameterSteps(template, values).errors) };
  }
  const result = { valid: true, errors: [], ok: false, log: [] };

  const validation = validateParameterSteps(template, request.values);
  result.errors = validation.errors;
  result.valid = validation.errors.length === 0;
  if (!result.valid && !request.skipValidation) return result;

  const integrations = ScmIntegrations.fromConfig(new ConfigReader({}));
  const actions = [
    createFetchCookiecutterAction({ integrations, reader: undefined }),
    createFilesystemDeleteAction(),
    createFilesystemRenameAction(),
    ...standIns(request.outputDir, result, integrations),
  ];
  const registry = {
    get: async (id) => {
      const action = actions.find((candidate) => candidate.id === id);
      if (!action) throw new Error(`no action ${id} in this scaffolder`);
      return action;
    },
    list: async () => actions,
  };
  const workingDirectory = fs.mkdtempSync(path.join(os.tmpdir(), 'scaffolder-'));
  const runner = new NunjucksWorkflowRunner({
    actionRegistry: registry,
    integrations,
    workingDirectory,
    logger: logger(result.log),
    metrics,
  });
  const lines = result.log;
  const task = {
    taskId: 'task',
    isDryRun: false,
    cancelSignal: new AbortController().signal,
    secrets: {},
    spec: {
      apiVersion: template.apiVersion,
      steps: template.spec.steps.map((step, index) => ({
        ...step,
        id: step.id ?? `step-${index + 1}`,
        name: step.name ?? step.action,
      })),
      output: template.spec.output ?? {},
      parameters: validation.values,
      user: {},
      templateInfo: {
        entityRef: `template:default/${template.metadata.name}`,
        baseUrl: `file://${templatePath}`,
      },
    },
    getWorkspaceName: async () => 'task',
    getInitiatorCredentials: async () => ({}),
    emitLog: async (message) => lines.push(message),
  };
  try {
    await runner.execute(task);
    result.ok = true;
  } catch (error) {
    result.error = String(error.message ?? error);
  } finally {
    fs.rmSync(workingDirectory, { recursive: true, force: true });
  }
  return result;
}

// One request, or a list of them run one after another (one start of node).
async function main() {
  const request = JSON.parse(fs.readFileSync(0, 'utf8'));
  if (!Array.isArray(request)) return handle(request);
  const results = [];
  for (const each of request) results.push(await handle(each));
  return results;
}

main().then(
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
  (error) => {
    process.stderr.write(`${error.stack}\n`);
    process.exit(1);
  },
);
