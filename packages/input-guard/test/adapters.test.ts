import { describeErrorHandlers } from '@plat/testkit';
import { InputGuardError } from '../src';
import { errorHandler as expressHandler } from '../src/express';
import { errorHandler as fastifyHandler } from '../src/fastify';
import { errorHandler as koaHandler } from '../src/koa';

describeErrorHandlers(
  '@plat/input-guard',
  { express: expressHandler, fastify: fastifyHandler, koa: koaHandler },
  () => new InputGuardError('INVALID_OPTIONS', 'bad options'),
  500,
);
