// getsockopt(SO_ORIGINAL_DST) for the sandbox's probe agent: the destination a connection had before
// an iptables REDIRECT (fsm-init's rules) sent it to the proxy, as Envoy's original_dst listener
// filter reads it. One function, originalDestination(fd) → { address, port } | undefined (no
// redirect: the kernel has no conntrack entry for the socket, ENOENT). Built by `npm ci` (binding.gyp).
#include <node_api.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static napi_value OriginalDestination(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  int32_t fd = -1;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, nullptr, "fd: must be a non-negative integer (a connected socket's descriptor)");
    return nullptr;
  }
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t len = sizeof(struct sockaddr_in);
  int rc = getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &ss, &len);
  if (rc != 0 && (errno == ENOPROTOOPT || errno == EOPNOTSUPP || errno == EINVAL)) {
    // An IPv6 socket: ip6tables' REDIRECT answers on SOL_IPV6.
    len = sizeof(struct sockaddr_in6);
    rc = getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &ss, &len);
  }
  if (rc != 0) {
    if (errno == ENOENT) {
      napi_value none;
      napi_get_undefined(env, &none);
      return none;
    }
    char msg[160];
    snprintf(msg, sizeof msg, "getsockopt(SO_ORIGINAL_DST) on fd %d: %s", fd, strerror(errno));
    napi_throw_error(env, nullptr, msg);
    return nullptr;
  }
  char text[INET6_ADDRSTRLEN] = {0};
  int port = 0;
  if (ss.ss_family == AF_INET) {
    const struct sockaddr_in* a = reinterpret_cast<const struct sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    port = ntohs(a->sin_port);
  } else {
    const struct sockaddr_in6* a = reinterpret_cast<const struct sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
    port = ntohs(a->sin6_port);
  }
  napi_value result, address, portValue;
  napi_create_object(env, &result);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &address);
  napi_create_int32(env, port, &portValue);
  napi_set_named_property(env, result, "address", address);
  napi_set_named_property(env, result, "port", portValue);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "originalDestination", NAPI_AUTO_LENGTH, OriginalDestination, nullptr, &fn);
  napi_set_named_property(env, exports, "originalDestination", fn);
  return exports;
}
