#include "llm/curl_transport.hpp"

#include "llm/curl_multi.hpp"

#include <memory>

#include <boost/asio/post.hpp>

namespace chrysopedia::llm {

namespace {

class CurlCall final : public UpstreamCall {
 public:
  CurlCall(CurlMulti& multi, const CallRequest& request, CallEvents& events)
      : multi_(multi), events_(events), url_(request.url) {
    easy_ = curl_easy_init();
    for (const auto& h : request.headers) headers_ = curl_slist_append(headers_, h.c_str());
    curl_easy_setopt(easy_, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    body_size_ = request.body.size();
    curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &CurlCall::on_write);
    curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, &CurlCall::on_header);
    curl_easy_setopt(easy_, CURLOPT_HEADERDATA, this);
    curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy_, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(request.connect_timeout.count()));
    curl_easy_setopt(easy_, CURLOPT_TIMEOUT_MS, static_cast<long>(request.total_timeout.count()));
    curl_easy_setopt(easy_, CURLOPT_TCP_NODELAY, 1L);
    // Tokens come a few hundred bytes at a time; curl's 16 KiB default
    // receive buffer is mostly idle memory when thousands stream at once.
    curl_easy_setopt(easy_, CURLOPT_BUFFERSIZE, 8192L);
    curl_easy_setopt(easy_, CURLOPT_ACCEPT_ENCODING, "");  // whatever curl can decode
    // The completion is posted: it may arrive after this call is gone.
    std::weak_ptr<CurlCall*> alive = alive_;
    multi_.add(easy_, [alive](CURLcode code) {
      if (auto self = alive.lock()) (*self)->done(code);
    });
  }

  ~CurlCall() override {
    multi_.remove(easy_);  // closes the connection if the transfer still runs
    curl_easy_cleanup(easy_);
    curl_slist_free_all(headers_);
  }

  void resume() override { curl_easy_pause(easy_, CURLPAUSE_CONT); }

  bool request_sent() const override {
    curl_off_t sent = 0;
    return curl_easy_getinfo(easy_, CURLINFO_SIZE_UPLOAD_T, &sent) == CURLE_OK &&
           sent == static_cast<curl_off_t>(body_size_);
  }

 private:
  static size_t on_header(char* data, size_t size, size_t n, void* self_ptr) {
    auto* self = static_cast<CurlCall*>(self_ptr);
    std::string_view line(data, size * n);
    const auto colon = line.find(':');
    if (colon != std::string_view::npos) {
      auto value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
      while (!value.empty() && (value.back() == '\r' || value.back() == '\n' ||
                                value.back() == ' ' || value.back() == '\t')) {
        value.remove_suffix(1);
      }
      self->events_.on_header(line.substr(0, colon), value);
    }
    return size * n;
  }

  static size_t on_write(char* data, size_t size, size_t n, void* self_ptr) {
    auto* self = static_cast<CurlCall*>(self_ptr);
    if (self->status_ == 0) curl_easy_getinfo(self->easy_, CURLINFO_RESPONSE_CODE, &self->status_);
    const auto take = self->events_.on_body(static_cast<int>(self->status_), {data, size * n});
    if (take != CallEvents::Take::abort) self->post_read_end();
    switch (take) {
      case CallEvents::Take::all:
        return size * n;
      case CallEvents::Take::pause:
        return CURL_WRITEFUNC_PAUSE;  // the same bytes come again after unpausing
      case CallEvents::Take::abort:
        break;
    }
    return 0;  // ends the transfer with CURLE_WRITE_ERROR
  }

  // Inside curl's callback the events must not destroy the call: the end
  // of a read is theirs on a turn of its own, once for what one turn of
  // curl's loop delivered.
  void post_read_end() {
    if (read_end_posted_) return;
    read_end_posted_ = true;
    std::weak_ptr<CurlCall*> alive = alive_;
    boost::asio::post(multi_.context(), [alive] {
      if (auto self = alive.lock()) {
        (*self)->read_end_posted_ = false;
        (*self)->events_.on_read_end();
      }
    });
  }

  // CurlMulti posts this, so it never runs inside another curl call.
  void done(CURLcode code) {
    CallOutcome out;
    long http = status_;
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &http);
    out.status = static_cast<int>(http);
    out.complete = code == CURLE_OK;
    const std::string what = curl_easy_strerror(code);
    switch (code) {
      case CURLE_OK:
        break;
      case CURLE_OPERATION_TIMEDOUT:
        out.kind = LlmError::Kind::timeout;
        out.what = "the upstream timed out: " + what;
        break;
      case CURLE_COULDNT_CONNECT:
      case CURLE_COULDNT_RESOLVE_HOST:
      case CURLE_COULDNT_RESOLVE_PROXY:
      case CURLE_SSL_CONNECT_ERROR:
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SEND_ERROR:
        out.kind = LlmError::Kind::connect;
        out.what = "cannot reach the upstream: " + what;
        break;
      default:
        out.kind = LlmError::Kind::truncated;
        out.what = "the upstream connection failed mid-stream: " + what;
    }
    out.retryable = code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST ||
                    code == CURLE_SEND_ERROR || code == CURLE_GOT_NOTHING ||
                    code == CURLE_RECV_ERROR;
    events_.on_end(std::move(out));
  }

  CurlMulti& multi_;
  CallEvents& events_;
  std::string url_;  // curl keeps the pointer
  CURL* easy_ = nullptr;
  curl_slist* headers_ = nullptr;
  std::size_t body_size_ = 0;
  long status_ = 0;
  bool read_end_posted_ = false;
  std::shared_ptr<CurlCall*> alive_ = std::make_shared<CurlCall*>(this);
};

}  // namespace

std::unique_ptr<UpstreamCall> CurlTransport::start(const CallRequest& request, CallEvents& events) {
  return std::make_unique<CurlCall>(multi_, request, events);
}

}  // namespace chrysopedia::llm
