#include "nodes/apps/stack.h"

namespace shakedown::apps {

Host& Socket::host() const { return stack_->host_; }

const tcp::Connection& Socket::connection() const { return stack_->host_.tcp().connection(id_); }

std::uint64_t Socket::send(std::uint64_t bytes) const {
  Stack::Entry* e = stack_->entry(id_);
  if (e == nullptr || e->shut || !stack_->host_.up()) return 0;
  const std::uint64_t take = std::min(bytes, stack_->space(id_));
  if (take < bytes) e->want_write = true;
  if (take == 0) return 0;
  e->written += take;
  stack_->host_.tcp().connection(id_).send(take);
  stack_->flush(id_);
  return take;
}

std::uint64_t Socket::send_space() const {
  const Stack::Entry* e = stack_->entry(id_);
  return e == nullptr || e->shut ? 0 : stack_->space(id_);
}

void Socket::notify_drained() const {
  Stack::Entry* e = stack_->entry(id_);
  if (e == nullptr) return;
  if (stack_->host_.tcp().connection(id_).bytes_acked() >= e->written) {
    e->handler->on_drained(*this);
  } else {
    e->want_drain = true;
  }
}

void Socket::read(std::uint64_t bytes) const {
  if (stack_->entry(id_) == nullptr || !stack_->host_.up()) return;
  stack_->host_.tcp().connection(id_).read(bytes);
  stack_->flush(id_);
}

void Socket::shutdown() const {
  Stack::Entry* e = stack_->entry(id_);
  if (e == nullptr || !stack_->host_.up()) return;
  e->shut = true;
  e->want_write = false;
  stack_->host_.tcp().connection(id_).shutdown(stack_->host_.now());
  stack_->flush(id_);
}

void Socket::close() const {
  Stack::Entry* e = stack_->entry(id_);
  if (e == nullptr || !stack_->host_.up()) return;
  e->shut = true;
  e->want_write = false;
  stack_->host_.tcp().connection(id_).close(stack_->host_.now());
  stack_->flush(id_);
}

void Socket::echo_real_bytes() const {
  if (stack_->entry(id_) != nullptr) stack_->host_.echo_real_bytes(id_);
}

void Socket::abort() const {
  if (stack_->entry(id_) == nullptr || !stack_->host_.up()) return;
  // Detached first: the reset event the abort produces is the application's own doing.
  stack_->detach(id_);
  stack_->host_.tcp().connection(id_).abort(stack_->host_.now());
  stack_->flush(id_);
}

Stack::Stack(Host& host, std::uint64_t send_buffer) : host_(host), send_buffer_(send_buffer) {
  host_.set_application(this);
}

Stack::~Stack() { host_.set_application(nullptr); }

void Stack::listen(std::uint16_t port, Handler& handler, const ListenOptions& options) {
  listeners_.insert_or_assign(port, Listening{&handler, options});
  host_.tcp().listen(port, options.backlog, options.syn_backlog);
}

std::optional<Socket> Stack::connect(wire::Ipv4Address remote, std::uint16_t port, Handler& handler) {
  if (!host_.up()) return std::nullopt;
  return opened(host_.tcp().connect(host_.now(), remote, port), handler);
}

std::optional<Socket> Stack::connect_from(std::uint16_t local_port, wire::Ipv4Address remote, std::uint16_t port,
                                          Handler& handler) {
  if (!host_.up()) return std::nullopt;
  return opened(host_.tcp().connect_from(host_.now(), local_port, remote, port), handler);
}

std::optional<Socket> Stack::opened(std::optional<tcp::ConnId> id, Handler& handler) {
  if (!id) return std::nullopt;
  attach(*id, handler);
  flush(*id);
  return Socket(*this, *id);
}

std::optional<Socket> Stack::accept(std::uint16_t port) {
  auto it = listeners_.find(port);
  if (it == listeners_.end() || !host_.up()) return std::nullopt;
  const auto id = host_.tcp().accept(port);
  if (!id) return std::nullopt;
  Entry& e = attach(*id, *it->second.handler);
  e.connected = true;
  const Socket s(*this, *id);
  const tcp::Connection& c = host_.tcp().connection(*id);
  if (c.bytes_received() > 0) {
    // Reported after the caller has the socket in hand.
    host_.engine().at(host_.now(), [this, s, bytes = c.bytes_received()] {
      if (Entry* en = entry(s.id())) en->handler->on_readable(s, bytes);
      host_.service();
    });
  }
  return s;
}

Stack::Entry* Stack::entry(tcp::ConnId id) {
  if (id.index >= entries_.size()) return nullptr;
  Entry& e = entries_[id.index];
  return e.handler != nullptr && e.generation == id.generation ? &e : nullptr;
}

Stack::Entry& Stack::attach(tcp::ConnId id, Handler& handler) {
  if (entries_.size() <= id.index) entries_.resize(id.index + 1);
  Entry& e = entries_[id.index];
  if (e.handler == nullptr) ++open_;
  e = Entry{&handler, id.generation};
  return e;
}

void Stack::detach(tcp::ConnId id) {
  if (Entry* e = entry(id)) {
    e->handler = nullptr;
    --open_;
  }
}

std::uint64_t Stack::space(tcp::ConnId id) {
  const Entry& e = entries_[id.index];
  const std::uint64_t queued = e.written - host_.tcp().connection(id).bytes_acked();
  return queued >= send_buffer_ ? 0 : send_buffer_ - queued;
}

void Stack::flush(tcp::ConnId id) {
  host_.tcp().touched(host_.now(), id);
  host_.service();
}

void Stack::accept_ready(std::uint16_t port, Listening& l) {
  if (!l.options.auto_accept) {
    l.handler->on_acceptable(*this, port);
    return;
  }
  while (auto id = host_.tcp().accept(port)) {
    Entry& e = attach(*id, *l.handler);
    e.connected = true;
    l.handler->on_connected(Socket(*this, *id));
  }
}

void Stack::on_event(Host&, tcp::ConnId id, const tcp::Event& ev) {
  Entry* e = entry(id);
  const Socket s(*this, id);
  switch (ev.kind) {
    case tcp::EventKind::state_changed:
      if (!tcp::synchronized(ev.to)) return;
      if (e != nullptr) {
        if (!e->connected) {
          e->connected = true;
          e->handler->on_connected(s);
        }
      } else if (ev.from == tcp::State::syn_received || ev.from == tcp::State::closed) {
        // A listener's connection finished its handshake and joined the accept queue.
        const std::uint16_t port = host_.tcp().connection(id).local_port();
        if (auto it = listeners_.find(port); it != listeners_.end()) accept_ready(port, it->second);
      }
      return;
    case tcp::EventKind::data_received:
      if (e != nullptr) e->handler->on_readable(s, ev.bytes);
      return;
    case tcp::EventKind::peer_closed:
      if (e != nullptr) e->handler->on_peer_closed(s);
      return;
    case tcp::EventKind::reset:
    case tcp::EventKind::refused:
    case tcp::EventKind::timed_out:
    case tcp::EventKind::closed: {
      if (e == nullptr) return;
      Handler* h = e->handler;
      const bool connected = e->connected;
      detach(id);
      if (ev.kind == tcp::EventKind::closed) {
        h->on_closed(s);
      } else if (ev.kind == tcp::EventKind::timed_out) {
        h->on_failed(s, Failure::timed_out);
      } else if (connected) {
        h->on_reset(s);
      } else {
        h->on_failed(s, Failure::refused);
      }
      return;
    }
    default:
      return;
  }
}

void Stack::on_input(Host&, tcp::ConnId id) {
  Entry* e = entry(id);
  if (e == nullptr) return;
  if (e->want_drain && host_.tcp().connection(id).bytes_acked() >= e->written) {
    e->want_drain = false;
    e->handler->on_drained(Socket(*this, id));
    if ((e = entry(id)) == nullptr) return;
  }
  if (!e->want_write || space(id) * 3 < send_buffer_) return;
  e->want_write = false;
  e->handler->on_writable(Socket(*this, id));
}

void Stack::on_crash(Host&) {
  for (std::uint32_t i = 0; i < entries_.size(); ++i) {
    Entry& e = entries_[i];
    if (e.handler == nullptr) continue;
    Handler* h = e.handler;
    const tcp::ConnId id{i, e.generation};
    detach(id);
    h->on_failed(Socket(*this, id), Failure::crashed);
  }
  entries_.clear();
}

void Stack::on_restart(Host&) {
  for (const auto& [port, l] : listeners_) host_.tcp().listen(port, l.options.backlog, l.options.syn_backlog);
}

}  // namespace shakedown::apps
