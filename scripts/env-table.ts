// Prints the README's configuration table from src/config.ts ENV_VARS (the single source).
// Usage: node scripts/env-table.ts  (the README test fails when a variable is missing there)
import { ENV_VARS } from '../src/config.ts';

const cell = (text: string) =>
  (text === '' ? '(empty)' : text.includes('`') ? text : `\`${text}\``).replaceAll('|', '\\|');
for (const [name, [fallback, meaning]] of Object.entries(ENV_VARS)) {
  process.stdout.write(`| \`${name}\` | ${cell(fallback)} | ${meaning.replaceAll('|', '\\|')} |\n`);
}
