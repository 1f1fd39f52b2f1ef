#ifndef OVA2VIRT_CLI_APP_H_
#define OVA2VIRT_CLI_APP_H_

namespace ova2virt::cli {

// Runs the ova2virt command line; returns the process exit status.
int Main(int argc, char** argv);

}  // namespace ova2virt::cli

#endif  // OVA2VIRT_CLI_APP_H_
