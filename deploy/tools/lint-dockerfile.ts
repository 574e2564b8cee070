// Lints a Dockerfile: dockerfile-utils' validator (the one behind VS Code's Docker support) with every
// rule an error, then the rules this image promises (non-root, health check, read-only root file
// system, the pinned base). Prints one line per problem and exits 1 on any.
//   node --import tsx deploy/tools/lint-dockerfile.ts deploy/Dockerfile
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { ValidationSeverity, validate } from 'dockerfile-utils';

const BASE_IMAGE = 'node:20-bookworm-slim';

export function lintDockerfile(file: string, repoRoot: string): string[] {
  const text = readFileSync(file, 'utf8');
  const problems: string[] = [];
  const error = ValidationSeverity.ERROR;
  const diagnostics = validate(text, {
    deprecatedMaintainer: error,
    directiveCasing: error,
    emptyContinuationLine: error,
    instructionCasing: error,
    instructionCmdMultiple: error,
    instructionEntrypointMultiple: error,
    instructionHealthcheckMultiple: error,
    instructionJSONInSingleQuotes: error,
    instructionWorkdirRelative: error,
  });
  for (const d of diagnostics) problems.push(`line ${d.range.start.line + 1}: ${d.message}`);

  const dockerfile = DockerfileParser.parse(text);
  const all = dockerfile.getInstructions();
  const stageStarts = all.flatMap((ins, i) => (ins.getKeyword() === 'FROM' ? [i] : []));
  if (stageStarts.length < 2)
    problems.push('not a multi-stage build (expected a build stage and a runtime stage)');
  const final = all.slice(stageStarts.at(-1) ?? 0);
  const args = (ins: Instruction) => ins.getArgumentsContent() ?? '';
  const at = (ins: Instruction) => `line ${ins.getRange().start.line + 1}`;
  const finalOf = (keyword: string) => final.filter((ins) => ins.getKeyword() === keyword);

  const resolvedBases = dockerfile.getFROMs().map((from) => {
    const image = from.getImageName() ?? '';
    const ref = `${image}${from.getImageTag() ? `:${from.getImageTag()}` : ''}`;
    const variable = /^\$\{?(\w+)\}?$/.exec(ref);
    if (!variable) return ref;
    const arg = dockerfile.getInitialARGs().find((a) => a.getProperty()?.getName() === variable[1]);
    return arg?.getProperty()?.getValue() ?? ref;
  });
  for (const base of resolvedBases) {
    if (base !== BASE_IMAGE) problems.push(`base image ${base}: every stage builds on ${BASE_IMAGE}`);
  }

  const users = finalOf('USER');
  const user = users.at(-1);
  if (!user) problems.push('the runtime stage never leaves root: add USER with a non-root uid');
  else if (/^(root|0)(:|$)/.test(args(user))) problems.push(`${at(user)}: USER ${args(user)} is root`);

  if (finalOf('HEALTHCHECK').length !== 1) problems.push('the runtime stage needs one HEALTHCHECK');
  for (const hc of finalOf('HEALTHCHECK')) {
    if (!/\bCMD\s+\[/.test(args(hc))) problems.push(`${at(hc)}: HEALTHCHECK CMD in exec (JSON) form`);
  }

  const entrypoints = finalOf('ENTRYPOINT');
  if (entrypoints.length !== 1) problems.push('the runtime stage needs one ENTRYPOINT');
  for (const ep of entrypoints) {
    const form = /^\[\s*"([^"]+)"/.exec(args(ep));
    if (!form) problems.push(`${at(ep)}: ENTRYPOINT in exec (JSON) form, so signals reach maas`);
    else if (form[1]!.startsWith('/app/') && !existsSync(join(repoRoot, form[1]!.slice('/app/'.length)))) {
      problems.push(`${at(ep)}: ENTRYPOINT ${form[1]} is not in the repository`);
    }
  }

  const volumes = finalOf('VOLUME').map(args).join(' ');
  for (const dir of ['/data', '/tmp']) {
    if (!volumes.includes(`"${dir}"`))
      problems.push(`the runtime stage must declare VOLUME ${dir} (read-only root)`);
  }
  if (!finalOf('ENV').some((env) => /\bMAAS_DATA_DIR=\/data\b/.test(args(env)))) {
    problems.push('the runtime stage must set MAAS_DATA_DIR=/data');
  }

  for (const ins of all) {
    const keyword = ins.getKeyword();
    const content = args(ins);
    if (keyword === 'ADD') problems.push(`${at(ins)}: use COPY, not ADD`);
    if (keyword === 'RUN' && /\bnpm (install|i)\b/.test(content)) {
      problems.push(`${at(ins)}: npm ci (from the lockfile), not npm install`);
    }
    if (keyword === 'RUN' && /apt-get install/.test(content)) {
      if (!/--no-install-recommends/.test(content))
        problems.push(`${at(ins)}: apt-get install --no-install-recommends`);
      if (!/rm -rf \/var\/lib\/apt\/lists/.test(content)) {
        problems.push(`${at(ins)}: remove /var/lib/apt/lists in the same RUN as apt-get install`);
      }
    }
    if (keyword === 'RUN' && /\b(curl|wget)\b/.test(content)) {
      problems.push(`${at(ins)}: nothing is downloaded outside the package managers`);
    }
    if (keyword === 'COPY' && !/--from=/.test(ins.getTextContent())) {
      const parts = content.split(/\s+/).filter((p) => p && !p.startsWith('--'));
      for (const source of parts.slice(0, -1)) {
        if (source !== '.' && !existsSync(join(repoRoot, source))) {
          problems.push(`${at(ins)}: COPY source ${source} does not exist`);
        }
      }
    }
  }
  return problems;
}

const file = process.argv[2];
if (file) {
  const path = resolve(file);
  const repoRoot = resolve(process.argv[3] ?? join(dirname(path), '..'));
  const problems = lintDockerfile(path, repoRoot);
  for (const p of problems) process.stderr.write(`${file}: ${p}\n`);
  if (problems.length > 0) process.exit(1);
  process.stdout.write(`${file}: ok\n`);
}
