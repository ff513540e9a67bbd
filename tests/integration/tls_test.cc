// TLS and mutual TLS from certificate files: the server bootstrap (common/server.h) and
// the client helper (common/client.h) with certificates made by openssl at test time. A
// mutual-TLS server refuses a client with no certificate, with one from another CA, with a
// self-signed one and with an expired one; a client refuses a server whose certificate
// another CA signed; a channel read by client::ReadConfig (as audit-service reads its
// channel to clue-service) gets through.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "common/auth.h"
#include "common/client.h"
#include "common/config.h"
#include "common/server.h"
#include "services/directory/service.h"
#include "tests/support/pg_redis.h"

namespace sm {
namespace {

namespace v1 = ::supervision::v1;

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/sm-tls-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = new std::string(tmpl);
    const std::string d = *dir_;
    auto run = [&](const std::string& cmd) {
      ASSERT_EQ(testing::Run("cd " + d + " && " + cmd + " >/dev/null 2>&1"), 0) << cmd;
    };
    run("openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 1 -subj /CN=sm-test-ca");
    run("(printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > san.ext)");
    for (const std::string name : {"server", "client", "rogue"}) {
      run("openssl req -newkey rsa:2048 -nodes -keyout " + name + ".key -out " + name + ".csr -subj /CN=" + name);
    }
    run("openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 1 -extfile "
        "san.ext");
    run("openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt -days 1");
    // A client certificate signed by nobody the server trusts.
    run("openssl x509 -req -in rogue.csr -signkey rogue.key -out rogue.crt -days 1");
    // Another CA, with a client and a server certificate of its own.
    run("openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.crt -days 1 -subj /CN=other-ca");
    for (const std::string name : {"other-client", "other-server", "expired"}) {
      run("openssl req -newkey rsa:2048 -nodes -keyout " + name + ".key -out " + name + ".csr -subj /CN=" + name);
    }
    run("openssl x509 -req -in other-client.csr -CA other-ca.crt -CAkey other-ca.key -CAcreateserial -out "
        "other-client.crt -days 1");
    run("openssl x509 -req -in other-server.csr -CA other-ca.crt -CAkey other-ca.key -CAcreateserial -out "
        "other-server.crt -days 1 -extfile san.ext");
    // Signed by the trusted CA but valid only for a day in 2020: `openssl ca` takes explicit
    // dates (openssl 3.0's x509 -req does not).
    run("(mkdir -p cadb && touch cadb/index && echo 01 > cadb/serial && printf '[ca]\\ndefault_ca=x\\n[x]\\n"
        "database=cadb/index\\nnew_certs_dir=cadb\\nserial=cadb/serial\\ndefault_md=sha256\\npolicy=p\\n"
        "[p]\\ncommonName=supplied\\n' > ca.cnf)");
    run("openssl ca -batch -config ca.cnf -cert ca.crt -keyfile ca.key -in expired.csr -out expired.crt -notext "
        "-startdate 20200101000000Z -enddate 20200102000000Z");
    run("openssl x509 -in expired.crt -noout -checkend 0 | grep -q 'will expire'");
    auth::Config ac;
    ac.keys = auth::DevelopmentKeys();
    verifier_ = new auth::Verifier(*auth::Verifier::Create(ac));
    // No store: these calls stop at authentication, which proves the handshake succeeded.
    service_ = new directory::DirectoryServiceImpl(nullptr, nullptr, verifier_);
    server::Config sc;
    sc.listen = "127.0.0.1:0";
    sc.tls = {d + "/server.crt", d + "/server.key", d + "/ca.crt"};
    auto server = server::Server::Start(sc, {service_});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
  }
  static void TearDownTestSuite() {
    server_->Shutdown(std::chrono::milliseconds(100));
    delete server_;
    delete service_;
    delete verifier_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  grpc::StatusCode Call(const client::Config& c) {
    auto channel = client::MakeChannel(c);
    EXPECT_TRUE(channel.ok()) << channel.status();
    auto stub = v1::DirectoryService::NewStub(*channel);
    grpc::ClientContext ctx;
    client::PrepareContext(&ctx, c, "");
    v1::ListPostsResponse resp;
    return stub->ListPosts(&ctx, v1::ListPostsRequest(), &resp).error_code();
  }

  client::Config Base() {
    client::Config c;
    c.target = "127.0.0.1:" + std::to_string(server_->port());
    c.ca_file = *dir_ + "/ca.crt";
    c.server_name_override = "localhost";
    c.default_deadline = std::chrono::milliseconds(3000);
    return c;
  }

  static inline std::string* dir_;
  static inline auth::Verifier* verifier_;
  static inline directory::DirectoryServiceImpl* service_;
  static inline server::Server* server_;
};

TEST_F(TlsTest, MutualTlsClientReachesTheHandler) {
  client::Config c = Base();
  c.cert_file = *dir_ + "/client.crt";
  c.key_file = *dir_ + "/client.key";
  EXPECT_EQ(Call(c), grpc::StatusCode::UNAUTHENTICATED);  // past TLS, stopped by auth
}

TEST_F(TlsTest, ClientWithoutCertificateIsRefused) { EXPECT_EQ(Call(Base()), grpc::StatusCode::UNAVAILABLE); }

TEST_F(TlsTest, ClientWithUntrustedCertificateIsRefused) {
  client::Config c = Base();
  c.cert_file = *dir_ + "/rogue.crt";
  c.key_file = *dir_ + "/rogue.key";
  EXPECT_EQ(Call(c), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, ClientWithACertificateFromAnotherCaIsRefused) {
  client::Config c = Base();
  c.cert_file = *dir_ + "/other-client.crt";
  c.key_file = *dir_ + "/other-client.key";
  EXPECT_EQ(Call(c), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, ClientWithAnExpiredCertificateIsRefused) {
  client::Config c = Base();
  c.cert_file = *dir_ + "/expired.crt";
  c.key_file = *dir_ + "/expired.key";
  EXPECT_EQ(Call(c), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, ServerWithACertificateFromAnotherCaIsRefused) {
  server::Config sc;
  sc.listen = "127.0.0.1:0";
  sc.tls = {*dir_ + "/other-server.crt", *dir_ + "/other-server.key", *dir_ + "/ca.crt"};
  auto other = server::Server::Start(sc, {service_});
  ASSERT_TRUE(other.ok()) << other.status();
  client::Config c = Base();
  c.target = "127.0.0.1:" + std::to_string((*other)->port());
  c.cert_file = *dir_ + "/client.crt";
  c.key_file = *dir_ + "/client.key";
  EXPECT_EQ(Call(c), grpc::StatusCode::UNAVAILABLE);
  (*other)->Shutdown(std::chrono::milliseconds(100));
}

TEST_F(TlsTest, AChannelReadFromConfigUsesMutualTls) {
  // What audit-service reads for its channel to clue-service, outside development.
  auto source = config::Source::FromYaml(
      "audit:\n  clue:\n    addr: 127.0.0.1:" + std::to_string(server_->port()) + "\n    tls:\n      ca_file: " +
          *dir_ + "/ca.crt\n      cert_file: " + *dir_ + "/client.crt\n      key_file: " + *dir_ +
          "/client.key\n      server_name: localhost\n    deadline_ms: 3000\n",
      "file audit.yaml", [](const std::string&) -> std::optional<std::string> { return std::nullopt; });
  ASSERT_TRUE(source.ok()) << source.status();
  config::Reader r(*source);
  client::Config c = client::ReadConfig(r, "audit.clue", "127.0.0.1:7102", /*development=*/false);
  ASSERT_TRUE(r.Finish().ok()) << r.Finish();
  EXPECT_EQ(Call(c), grpc::StatusCode::UNAUTHENTICATED);  // past mutual TLS, stopped by auth
  // The same without its certificate is refused at start-up, not at the first call.
  config::Reader r2(*source);
  source->Set("audit.clue.tls.cert_file", "");
  source->Set("audit.clue.tls.key_file", "");
  client::ReadConfig(r2, "audit.clue", "127.0.0.1:7102", false);
  EXPECT_NE(std::string(r2.Finish().message()).find("audit.clue.tls.cert_file: is required"), std::string::npos);
}

TEST_F(TlsTest, PlaintextClientIsRefused) {
  client::Config c = Base();
  c.ca_file.clear();
  EXPECT_EQ(Call(c), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, MissingCertificateFileStopsStartUp) {
  server::Config sc;
  sc.listen = "127.0.0.1:0";
  sc.tls = {*dir_ + "/nope.crt", *dir_ + "/server.key", ""};
  auto server = server::Server::Start(sc, {});
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(server.status().message()).find("nope.crt"), std::string::npos);
  client::Config c = Base();
  c.ca_file = *dir_ + "/missing-ca.crt";
  EXPECT_EQ(client::MakeChannel(c).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sm
