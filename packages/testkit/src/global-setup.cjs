// Runs once before the tests: says which service suites will be skipped and why, and fails the run
// when CI=true and a service is missing or unreachable, or when a configured service is unreachable.
const net = require('node:net');

const services = [
  {
    env: 'PLAT_TEST_PG_URL',
    label: 'PostgreSQL',
    example: 'postgres://postgres@127.0.0.1:5432/test',
    check: checkPostgres,
  },
  { env: 'PLAT_TEST_REDIS_URL', label: 'Redis', example: 'redis://127.0.0.1:6379', check: checkRedis },
];

module.exports = async function platGlobalSetup() {
  // Jest runs each project's globalSetup; one check per run is enough.
  if (process.env.PLAT_TESTKIT_SERVICES_CHECKED === '1') return;
  process.env.PLAT_TESTKIT_SERVICES_CHECKED = '1';
  const ci = process.env.CI === 'true' || process.env.CI === '1';
  const problems = [];
  for (const service of services) {
    const url = (process.env[service.env] || '').trim();
    if (!url) {
      if (ci) problems.push(`${service.env} is not set (CI=true requires ${service.label})`);
      else
        process.stdout.write(
          `\n[plat] ${service.env} is not set: ${service.label} suites are SKIPPED. Run them with ${service.env}=${service.example}\n`,
        );
      continue;
    }
    try {
      await service.check(url);
    } catch (error) {
      problems.push(`${service.label} at ${redact(url)} is unreachable: ${error.message}`);
    }
  }
  if (problems.length > 0) throw new Error(`[plat] test services not available:\n  ${problems.join('\n  ')}`);
};

function redact(url) {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable url>';
  }
}

async function checkPostgres(url) {
  const { Client } = require('pg');
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query('select 1');
  } finally {
    await client.end();
  }
}

function checkRedis(url) {
  const parsed = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: parsed.hostname, port: Number(parsed.port || 6379) });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer to PING within 5 s'));
    }, 5000);
    let answer = '';
    socket.on('connect', () => {
      const auth = parsed.password
        ? `AUTH ${decodeURIComponent(parsed.username || 'default')} ${decodeURIComponent(parsed.password)}\r\n`
        : '';
      socket.write(`${auth}PING\r\n`);
    });
    socket.on('data', (chunk) => {
      answer += chunk.toString('utf8');
      if (answer.includes('+PONG')) {
        clearTimeout(timer);
        socket.end();
        resolve();
      } else if (answer.startsWith('-')) {
        clearTimeout(timer);
        socket.destroy();
        reject(new Error(answer.trim()));
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
