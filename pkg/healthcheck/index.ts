export { grpcHealthCheck } from './grpc-lazy.js';
export { createHealthcheckServer } from './server.js';
export { describeSocketError, tcpCheck } from './tcp-check.js';
