/** How the tour talks: numbered steps, indented detail, and checks that end the tour when they fail. */

const bold = (text: string) => (process.stdout.isTTY ? `\u001b[1m${text}\u001b[22m` : text);
const dim = (text: string) => (process.stdout.isTTY ? `\u001b[2m${text}\u001b[22m` : text);

let stepNumber = 0;

/** Starts a numbered step, naming the package that does the work. */
export function step(pkg: string, title: string): void {
  stepNumber += 1;
  console.log(`\n${bold(`${stepNumber}. ${title}`)} ${dim(`(${pkg})`)}`);
}

/** One line of what happened, indented under its step. */
export function say(text: string): void {
  for (const line of text.split('\n')) console.log(`   ${line}`);
}

/** A thing the tour expects; when it does not hold, the tour stops with a non-zero exit code. */
export function check(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`The tour expected ${what}`);
}

/** Shortens long values (keys, ids) for display. */
export function short(value: string, keep = 18): string {
  return value.length > keep + 1 ? `${value.slice(0, keep)}…` : value;
}
