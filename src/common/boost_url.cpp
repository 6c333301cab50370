// Boost.URL's implementation, compiled once here (Debian packages it
// without a library to link), as asio_impl.cpp does for Asio and Beast.
#include <boost/url/src.hpp>
