// The reference star of bench/RESULTS.md in ns-3 3.37, with ns-3's own TCP: N clients,
// each on its own 1 Gbps, 10 ms point-to-point link to one router; the router on a
// 1 Gbps, 10 ms link to the server; every link drops 1% of packets at random, both
// ways (a RateErrorModel on each device). Each client opens K connections (one
// BulkSendApplication each) to the server's port 80, started uniformly over the first
// START seconds, sends 10,000 bytes and closes; a PacketSink takes them. MSS 1448.
// The run ends when no event is left, or at UNTIL (120 s) simulated.
//
//   star_ns3 N K [START_SECONDS] [SEED] [UNTIL_SECONDS]
// prints: connections, wall seconds, events, events/s, bytes delivered.
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"

using namespace ns3;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: star_ns3 N K [START_SECONDS] [SEED] [UNTIL_SECONDS]\n");
    return 2;
  }
  const uint32_t n = static_cast<uint32_t>(std::atoi(argv[1]));
  const uint32_t k = static_cast<uint32_t>(std::atoi(argv[2]));
  const double start_window = argc > 3 ? std::atof(argv[3]) : 5.0;
  const uint32_t seed = argc > 4 ? static_cast<uint32_t>(std::atoi(argv[4])) : 1;
  const double until = argc > 5 ? std::atof(argv[5]) : 120.0;
  const auto wall_start = std::chrono::steady_clock::now();

  RngSeedManager::SetSeed(seed);
  Config::SetDefault("ns3::TcpSocket::SegmentSize", UintegerValue(1448));

  NodeContainer clients, router, server;
  clients.Create(n);
  router.Create(1);
  server.Create(1);
  InternetStackHelper internet;
  internet.Install(clients);
  internet.Install(router);
  internet.Install(server);

  PointToPointHelper p2p;
  p2p.SetDeviceAttribute("DataRate", StringValue("1Gbps"));
  p2p.SetChannelAttribute("Delay", StringValue("10ms"));
  // Linux's txqueuelen, as shakedown's default queue.
  p2p.SetQueue("ns3::DropTailQueue", "MaxSize", StringValue("1000p"));

  Ipv4AddressHelper addresses;
  addresses.SetBase("10.0.0.0", "255.255.255.252");
  const auto lossy = [](NetDeviceContainer& devices) {
    for (uint32_t i = 0; i < devices.GetN(); ++i) {
      Ptr<RateErrorModel> em = CreateObject<RateErrorModel>();
      em->SetAttribute("ErrorRate", DoubleValue(0.01));
      em->SetAttribute("ErrorUnit", StringValue("ERROR_UNIT_PACKET"));
      devices.Get(i)->SetAttribute("ReceiveErrorModel", PointerValue(em));
    }
  };
  NetDeviceContainer core = p2p.Install(router.Get(0), server.Get(0));
  lossy(core);
  Ipv4InterfaceContainer core_if = addresses.Assign(core);
  addresses.NewNetwork();
  for (uint32_t i = 0; i < n; ++i) {
    NetDeviceContainer d = p2p.Install(clients.Get(i), router.Get(0));
    lossy(d);
    addresses.Assign(d);
    addresses.NewNetwork();
  }
  Ipv4GlobalRoutingHelper::PopulateRoutingTables();

  const uint16_t port = 80;
  PacketSinkHelper sink("ns3::TcpSocketFactory", InetSocketAddress(Ipv4Address::GetAny(), port));
  ApplicationContainer sinks = sink.Install(server.Get(0));
  sinks.Start(Seconds(0));

  BulkSendHelper bulk("ns3::TcpSocketFactory", InetSocketAddress(core_if.GetAddress(1), port));
  bulk.SetAttribute("MaxBytes", UintegerValue(10000));
  Ptr<UniformRandomVariable> start = CreateObject<UniformRandomVariable>();
  start->SetAttribute("Min", DoubleValue(0));
  start->SetAttribute("Max", DoubleValue(start_window));
  for (uint32_t i = 0; i < n; ++i) {
    for (uint32_t j = 0; j < k; ++j) {
      ApplicationContainer app = bulk.Install(clients.Get(i));
      app.Start(Seconds(start->GetValue()));
    }
  }

  Simulator::Stop(Seconds(until));
  Simulator::Run();
  const uint64_t events = Simulator::GetEventCount();
  const uint64_t delivered = DynamicCast<PacketSink>(sinks.Get(0))->GetTotalRx();
  Simulator::Destroy();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  std::printf("connections %u\nwall_seconds %.3f\nevents %llu\nevents_per_second %.0f\nbytes_delivered %llu\n", n * k,
              wall, static_cast<unsigned long long>(events), static_cast<double>(events) / wall,
              static_cast<unsigned long long>(delivered));
  return 0;
}
