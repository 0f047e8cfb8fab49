// The `xchg` command tree: global flags, help layout and one command per noun (commands/index.ts). Parsing
// failures are not printed here: exitOverride() hands them to main.ts's single error path.
import { Command, Option } from 'commander';
import { VERSION } from '../../../common/src/version.js';
import { NOUNS } from './commands/index.js';
import { DEFAULT_SERVER } from './config.js';
import { defaulted, optionDescription } from './help.js';
import { OUTPUT_FORMATS } from './output.js';
import { displayWidth } from './text.js';

const HELP_AFTER = `
Environment:
  XCHG_SERVER   central's URL when --server is not given (default ${DEFAULT_SERVER})
  XCHG_TOKEN    API bearer token when neither --token nor --token-file is given

Exit status: 0 done, 1 the API refused or central could not be reached, 2 wrong command line.

Examples:
  xchg --token-file /var/lib/xchg-central/admin.token region list
  xchg dept create --code gat --name 公安厅 --region 360000
  xchg token create --dept gat --node gat-01 --ttl 7d
  xchg node list -o json
  xchg catalog create --code R-POP --name 人口基础信息 --dept gat --share-type unconditional --field id:integer:required --field name:string:required,sensitive,mask=name --binding population --node nd-…
  xchg share apply --resource R-POP --purpose 低保资格核查 --fields id,name
  xchg audit verify`;

export function buildProgram(): Command {
  const program = new Command('xchg')
    .description("Operate the data exchange (政务数据共享交换平台) through xchg-central's HTTP API.")
    .version(VERSION, '-V, --version', 'print the version')
    .addOption(defaulted('--server <url>', "central's URL (env XCHG_SERVER)", DEFAULT_SERVER))
    .option('--token <token>', 'API bearer token (env XCHG_TOKEN)')
    .option('--token-file <path>', 'read the API token from a file (e.g. admin.token)')
    .addOption(new Option('-o, --output <format>', 'output').choices(OUTPUT_FORMATS).default('table'))
    // Settings below are inherited by every command created with .command(), so they come before the nouns.
    .configureHelp({ showGlobalOptions: true, displayWidth, optionDescription })
    .configureOutput({
      // Help asked for implicitly (a noun without a verb) is still help: stdout, like --help.
      writeErr: (s) => process.stdout.write(s),
      outputError: () => undefined,
    })
    .exitOverride()
    .addHelpText('after', HELP_AFTER);
  for (const noun of NOUNS)
    noun.register(program.command(noun.name).summary(noun.summary).description(noun.description));
  return program;
}
