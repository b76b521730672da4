export { DbPerfError, DbPerfErrorCode } from './errors';
