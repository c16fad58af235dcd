/**
 * `node pod-dial.js <port>`, started inside a pod's network namespace by the node agent: connects
 * to 127.0.0.1:<port> (kubelet's port-forward dials localhost inside the pod) and relays
 * stdin/stdout. Its first stderr line says how the dial went: `connected`, or
 * `error <code> <kubelet's words>`. Exits when either side closes.
 */
import net from 'node:net';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  process.stderr.write(`error EINVAL port must be 1-65535, got ${JSON.stringify(process.argv[2])}\n`);
  process.exit(2);
}
const socket = net.connect({ host: '127.0.0.1', port });
socket.once('connect', () => {
  process.stderr.write('connected\n');
  process.stdin.pipe(socket);
  socket.pipe(process.stdout);
  process.stdin.once('end', () => socket.end());
  socket.once('close', () => process.exit(0));
});
socket.once('error', (e: NodeJS.ErrnoException) => {
  const reason = e.code === 'ECONNREFUSED' ? 'connect: connection refused' : e.message;
  process.stderr.write(`error ${e.code ?? 'EIO'} dial tcp4 127.0.0.1:${port}: ${reason}\n`);
  process.exit(1);
});
