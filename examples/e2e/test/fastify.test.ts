import { describeExample } from './workflow-service-suite';

describeExample('fastify');
