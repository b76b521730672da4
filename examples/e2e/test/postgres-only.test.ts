import { describeExample } from './workflow-service-suite';

// PostgreSQL without Redis: the in-process cache, API key revocations over LISTEN / NOTIFY.
describeExample('koa', 'postgres');
