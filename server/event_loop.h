// EventLoop: one thread's epoll loop. File descriptors are registered with a Handler that is
// called with the ready events (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP); other threads hand it
// work with Post(), which wakes the loop through an eventfd. A periodic timer and a
// before-sleep hook (run each time the loop is about to wait: where replies are flushed and
// batched work is submitted) complete it. Level-triggered, as Redis's ae.
//
// Thread safety: Post() and Stop() may be called from any thread; everything else only from
// the loop's own thread (or before Run()).
#ifndef LEARNKV_SERVER_EVENT_LOOP_H_
#define LEARNKV_SERVER_EVENT_LOOP_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "learnkv/status.h"
#include "util/mutexlock.h"

namespace learnkv {
namespace server {

class EventLoop {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void OnEvents(uint32_t events) = 0;
  };

  static Status Create(std::unique_ptr<EventLoop>* loop);
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;
  ~EventLoop();

  // events: a mask of EPOLLIN / EPOLLOUT. The handler must outlive the registration.
  Status Add(int fd, uint32_t events, Handler* handler);
  Status Modify(int fd, uint32_t events, Handler* handler);
  void Remove(int fd);

  // Runs task on the loop's thread soon.
  void Post(std::function<void()> task);
  // Called every interval_ms (approximately) on the loop's thread.
  void SetTimer(int interval_ms, std::function<void()> fn);
  // Called each time before the loop waits for events.
  void SetBeforeSleep(std::function<void()> fn) { before_sleep_ = std::move(fn); }

  // Runs until Stop().
  void Run();
  void Stop();

 private:
  EventLoop(int epfd, int wakefd);
  void RunPosted();

  const int epfd_;
  const int wakefd_;
  std::atomic<bool> stop_{false};

  Mutex mu_;
  std::vector<std::function<void()>> posted_ GUARDED_BY(mu_);
  bool wake_pending_ GUARDED_BY(mu_) = false;

  int timer_interval_ms_ = 0;
  int64_t next_timer_ms_ = 0;
  std::function<void()> timer_;
  std::function<void()> before_sleep_;
};

}  // namespace server
}  // namespace learnkv

#endif  // LEARNKV_SERVER_EVENT_LOOP_H_
