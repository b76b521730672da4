import { describeErrorHandlers } from '@plat/testkit';
import { ApiKeyError } from '../src';
import { errorHandler as expressHandler } from '../src/express';
import { errorHandler as fastifyHandler } from '../src/fastify';
import { errorHandler as koaHandler } from '../src/koa';

describeErrorHandlers(
  '@plat/apikeys',
  { express: expressHandler, fastify: fastifyHandler, koa: koaHandler },
  () => new ApiKeyError('INVALID_OPTIONS', 'bad options'),
  500,
);
