export { grpcHealthCheck } from './grpc-check.js';
export { createHealthcheckServer } from './server.js';
export { describeSocketError, tcpCheck } from './tcp-check.js';
