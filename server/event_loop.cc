#include "server/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace learnkv {
namespace server {

namespace {

int64_t MonotonicMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The wake-up eventfd's handler: nothing to do but drain it (posted tasks run every turn).
class WakeHandler : public EventLoop::Handler {
 public:
  void OnEvents(uint32_t) override {}
};
WakeHandler wake_handler;

}  // namespace

Status EventLoop::Create(std::unique_ptr<EventLoop>* loop) {
  const int epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) return Status::IOError("epoll_create1", std::strerror(errno));
  const int wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wakefd < 0) {
    close(epfd);
    return Status::IOError("eventfd", std::strerror(errno));
  }
  loop->reset(new EventLoop(epfd, wakefd));
  return (*loop)->Add(wakefd, EPOLLIN, &wake_handler);
}

EventLoop::EventLoop(int epfd, int wakefd) : epfd_(epfd), wakefd_(wakefd) {}

EventLoop::~EventLoop() {
  close(wakefd_);
  close(epfd_);
}

Status EventLoop::Add(int fd, uint32_t events, Handler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    return Status::IOError("epoll_ctl add", std::strerror(errno));
  }
  return Status::OK();
}

Status EventLoop::Modify(int fd, uint32_t events, Handler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  if (epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev) != 0) {
    return Status::IOError("epoll_ctl mod", std::strerror(errno));
  }
  return Status::OK();
}

void EventLoop::Remove(int fd) { epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr); }

void EventLoop::Post(std::function<void()> task) {
  bool wake = false;
  {
    MutexLock l(&mu_);
    posted_.push_back(std::move(task));
    if (!wake_pending_) wake = wake_pending_ = true;
  }
  if (wake) {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(wakefd_, &one, sizeof(one));
  }
}

void EventLoop::SetTimer(int interval_ms, std::function<void()> fn) {
  timer_interval_ms_ = interval_ms;
  next_timer_ms_ = MonotonicMs() + interval_ms;
  timer_ = std::move(fn);
}

void EventLoop::Stop() {
  stop_.store(true);
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wakefd_, &one, sizeof(one));
}

void EventLoop::RunPosted() {
  std::vector<std::function<void()>> tasks;
  {
    MutexLock l(&mu_);
    tasks.swap(posted_);
    if (wake_pending_) {
      wake_pending_ = false;
      uint64_t value;
      [[maybe_unused]] ssize_t n = read(wakefd_, &value, sizeof(value));
    }
  }
  for (auto& t : tasks) t();
}

void EventLoop::Run() {
  constexpr int kMaxEvents = 256;
  epoll_event events[kMaxEvents];
  while (!stop_.load(std::memory_order_relaxed)) {
    if (before_sleep_) before_sleep_();
    int timeout = -1;
    if (timer_) {
      const int64_t now = MonotonicMs();
      timeout = next_timer_ms_ > now ? static_cast<int>(next_timer_ms_ - now) : 0;
    }
    {
      MutexLock l(&mu_);
      if (!posted_.empty()) timeout = 0;
    }
    const int n = epoll_wait(epfd_, events, kMaxEvents, timeout);
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      static_cast<Handler*>(events[i].data.ptr)->OnEvents(events[i].events);
    }
    RunPosted();
    if (timer_) {
      const int64_t now = MonotonicMs();
      if (now >= next_timer_ms_) {
        next_timer_ms_ = now + timer_interval_ms_;
        timer_();
      }
    }
  }
  RunPosted();
}

}  // namespace server
}  // namespace learnkv
