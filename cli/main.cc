// The ova2virt command. Everything happens in cli::Main; this file only
// hands over argv.
#include "cli/app.h"

int main(int argc, char** argv) { return ova2virt::cli::Main(argc, argv); }
