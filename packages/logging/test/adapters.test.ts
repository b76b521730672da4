import { describeErrorHandlers } from '@plat/testkit';
import { LoggingError } from '../src';
import { errorHandler as expressHandler } from '../src/express';
import { errorHandler as fastifyHandler } from '../src/fastify';
import { errorHandler as koaHandler } from '../src/koa';

describeErrorHandlers(
  '@plat/logging',
  { express: expressHandler, fastify: fastifyHandler, koa: koaHandler },
  () => new LoggingError('INVALID_OPTIONS', 'bad options'),
  500,
);
