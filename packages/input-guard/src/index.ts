export { InputGuardError, InputGuardErrorCode } from './errors';
