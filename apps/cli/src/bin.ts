import { Command } from 'commander';
import { registerServeCommand } from './commands/serve.ts';

const program = new Command()
  .name('maas')
  .description('Model-as-a-Service: one governed, OpenAI-compatible API over all of your models')
  .showHelpAfterError();

registerServeCommand(program);

await program.parseAsync(process.argv);
