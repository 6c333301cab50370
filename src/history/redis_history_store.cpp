#include "history/redis_history_store.hpp"

#include <nlohmann/json.hpp>

namespace chrysopedia::history {

namespace net = boost::asio;

namespace {

// Appends one turn atomically. A key holding anything but a list of
// messages is replaced, not appended to: it was never a conversation.
// ARGV: user text, assistant text, max messages, ttl seconds.
constexpr const char* kAppendScript = R"lua(
local list = {}
local raw = redis.call('GET', KEYS[1])
if raw then
  local ok, decoded = pcall(cjson.decode, raw)
  if ok and type(decoded) == 'table' then
    local valid = true
    local n = 0
    for k, m in pairs(decoded) do
      n = n + 1
      if type(k) ~= 'number' or type(m) ~= 'table'
         or (m.role ~= 'user' and m.role ~= 'assistant') or type(m.content) ~= 'string' then
        valid = false
        break
      end
    end
    if valid and n == #decoded then list = decoded end
  end
end
table.insert(list, {role = 'user', content = ARGV[1]})
table.insert(list, {role = 'assistant', content = ARGV[2]})
local cap = tonumber(ARGV[3])
while #list > cap do table.remove(list, 1) end
redis.call('SET', KEYS[1], cjson.encode(list), 'EX', tonumber(ARGV[4]))
return #list
)lua";

}  // namespace

std::string history_key(const std::string& conversation_id) {
  return "chrysopedia:chat:" + conversation_id;
}

std::vector<Message> parse_conversation(const std::string& json) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(json);
  } catch (const nlohmann::json::exception&) {
    throw HistoryError("the stored conversation is not JSON");
  }
  if (!doc.is_array()) throw HistoryError("the stored conversation is not a JSON array");
  std::vector<Message> out;
  for (const auto& m : doc) {
    if (!m.is_object() || !m.contains("role") || !m.contains("content") || !m["role"].is_string() ||
        !m["content"].is_string()) {
      throw HistoryError("the stored conversation holds something that is not a message");
    }
    const auto& role = m["role"].get_ref<const std::string&>();
    if (role != "user" && role != "assistant") {
      throw HistoryError("the stored conversation has a message with role \"" + role + "\"");
    }
    out.push_back({role, m["content"].get<std::string>()});
  }
  return out;
}

RedisHistoryStore::RedisHistoryStore(RedisConnection& connection, RedisHistoryOptions options)
    : connection_(connection), options_(options) {}

net::awaitable<std::vector<Message>> RedisHistoryStore::load(const std::string& conversation_id) {
  std::vector<std::string> argv = {"GET", history_key(conversation_id)};
  const auto reply = co_await connection_.command(std::move(argv), options_.load_timeout);
  if (reply.type == RedisReply::Type::nil) co_return std::vector<Message>{};
  co_return parse_conversation(reply.str);
}

net::awaitable<void> RedisHistoryStore::append_turn(const std::string& conversation_id,
                                                    const std::string& user,
                                                    const std::string& assistant) {
  std::vector<std::string> argv = {"EVAL",
                                   kAppendScript,
                                   "1",
                                   history_key(conversation_id),
                                   user,
                                   assistant,
                                   std::to_string(options_.max_messages),
                                   std::to_string(options_.ttl.count())};
  co_await connection_.command(std::move(argv), options_.write_timeout);
}

net::awaitable<std::optional<std::vector<Message>>> RedisHistoryStore::get(
    const std::string& conversation_id) {
  std::vector<std::string> argv = {"GET", history_key(conversation_id)};
  const auto reply = co_await connection_.command(std::move(argv), options_.write_timeout);
  if (reply.type == RedisReply::Type::nil) co_return std::nullopt;
  co_return parse_conversation(reply.str);
}

net::awaitable<void> RedisHistoryStore::remove(const std::string& conversation_id) {
  std::vector<std::string> argv = {"DEL", history_key(conversation_id)};
  co_await connection_.command(std::move(argv), options_.write_timeout);
}

net::awaitable<std::string> RedisHistoryStore::readiness(std::chrono::milliseconds timeout) {
  std::vector<std::string> ping{"PING"};
  try {
    co_await connection_.command(std::move(ping), timeout);
  } catch (const std::exception& e) {
    co_return std::string(e.what());
  }
  co_return std::string();
}

}  // namespace chrysopedia::history
