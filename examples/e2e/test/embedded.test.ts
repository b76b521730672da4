import { describeExample } from './workflow-service-suite';

// The demo's configuration (SQLite, in-process cache): runs everywhere, services or not.
describeExample('fastify', 'embedded');
