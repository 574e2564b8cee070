import { Command, CommanderError } from 'commander';
import { registerAgentCommand } from './commands/agent.ts';
import { registerApplyCommand } from './commands/apply.ts';
import { registerAuditCommands } from './commands/audit.ts';
import { registerAuthCommands } from './commands/auth.ts';
import { registerBackupCommand } from './commands/backup.ts';
import { registerBatchCommands } from './commands/batches.ts';
import { registerChatCommand } from './commands/chat.ts';
import { registerClusterCommands } from './commands/clusters.ts';
import { registerCompletionCommand } from './commands/completion.ts';
import { registerContextCommands } from './commands/context.ts';
import { registerDeployCommand } from './commands/deploy.ts';
import { registerExportCommand } from './commands/export.ts';
import { registerFileCommands } from './commands/files.ts';
import { registerFineTuningCommands } from './commands/fine-tuning.ts';
import { registerFleetCommands } from './commands/fleet/index.ts';
import { registerInvitationCommands } from './commands/invitations.ts';
import { registerJobCommands } from './commands/jobs.ts';
import { registerKnowledgeCommands } from './commands/knowledge.ts';
import { registerMigrateCommand } from './commands/migrate.ts';
import { registerIdentityResources } from './commands/resources/identity.ts';
import { registerKeyResource } from './commands/resources/keys.ts';
import { registerLimitResource } from './commands/resources/limits.ts';
import { registerModelResource } from './commands/resources/models.ts';
import { registerProviderResource } from './commands/resources/providers.ts';
import { registerRestoreCommand } from './commands/restore.ts';
import { registerRoleCommands } from './commands/roles.ts';
import { registerServeCommand } from './commands/serve.ts';
import { registerStatusCommand } from './commands/status.ts';
import { registerUsageCommand } from './commands/usage.ts';
import { registerWebhookCommands } from './commands/webhooks.ts';
import { CliError, EXIT, EXIT_CODES_HELP } from './lib/errors.ts';

const ENVIRONMENT_HELP = `
Environment:
  MAAS_CONFIG_DIR   where contexts are kept (default $XDG_CONFIG_HOME/maas or ~/.config/maas)
  MAAS_CONTEXT      the context to use instead of the current one
  MAAS_SERVER       a server to use without any saved context (with MAAS_API_KEY)
  MAAS_API_KEY      an API key (for maas chat, or the admin API with admin scopes)
  NO_COLOR          turn colours off (they are off anyway when output is piped)`;

/** The whole `maas` command tree. Building it has no side effects. */
export function buildProgram(): Command {
  const program = new Command()
    .name('maas')
    .description('Model-as-a-Service: one governed, OpenAI-compatible API over all of your models')
    .option('-o, --output <format>', 'output format: table, json or yaml (default table)')
    .option('--context <name>', 'use this saved context (for login: the name to save it as)')
    .option('--no-color', 'no colours (also NO_COLOR; off anyway when piped)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .addHelpText(
      'after',
      `\nExamples:\n  maas login http://localhost:8080\n  maas keys create laptop --save && maas chat\n  maas apply -f maas.yaml --dry-run\n  maas models ls -o json\n${ENVIRONMENT_HELP}\n${EXIT_CODES_HELP}\n`,
    );

  registerServeCommand(program);
  registerMigrateCommand(program);
  registerBackupCommand(program);
  registerRestoreCommand(program);
  registerAgentCommand(program);
  registerDeployCommand(program);
  registerClusterCommands(program);
  registerFleetCommands(program);
  registerAuthCommands(program);
  registerContextCommands(program);
  registerIdentityResources(program);
  registerRoleCommands(program);
  registerInvitationCommands(program);
  registerKeyResource(program);
  registerProviderResource(program);
  registerModelResource(program);
  registerLimitResource(program);
  registerChatCommand(program);
  registerFileCommands(program);
  registerBatchCommands(program);
  registerKnowledgeCommands(program);
  registerJobCommands(program);
  registerFineTuningCommands(program);
  registerWebhookCommands(program);
  registerUsageCommand(program);
  registerAuditCommands(program);
  registerStatusCommand(program);
  registerApplyCommand(program);
  registerExportCommand(program);
  registerCompletionCommand(program);
  return program;
}

/** Reports an error as `error: <message>` on stderr and returns the exit code. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof CommanderError) {
    // commander has printed its message already; help and --version are not errors
    if (err.exitCode === 0) return EXIT.ok;
    return EXIT.usage;
  }
  if (err instanceof CliError) {
    process.stderr.write(`error: ${err.message}\n`);
    return err.exitCode;
  }
  process.stderr.write(`error: ${(err as Error)?.stack ?? String(err)}\n`);
  return EXIT.general;
}

export async function run(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return EXIT.ok;
  } catch (err) {
    return exitCodeOf(err);
  }
}
