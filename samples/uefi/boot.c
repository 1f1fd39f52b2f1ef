/*
 * ova2virt sample: a UEFI application that needs no operating system.
 *
 * Installed as \EFI\BOOT\BOOTX64.EFI on the sample's ESP, so the firmware runs
 * it from the disk's removable-media path without any boot entry. It
 *   1. finds the whole disk it was loaded from (the parent of the ESP's
 *      partition handle) and checks its end: the backup GPT header must be in
 *      the last block, and the block just before the backup partition entries
 *      must begin with TAIL_MAGIC, so a conversion that loses or shifts the end
 *      of the disk shows up as a failed boot rather than a silent success;
 *   2. prints "OVA2VIRT-BOOT-OK" (or "OVA2VIRT-BOOT-FAIL") on the console,
 *      which OVMF mirrors on the first serial port;
 *   3. shuts the machine down with ResetSystem(EfiResetShutdown).
 *
 * Built with gnu-efi by samples/build-samples.
 */
#include <efi.h>
#include <efilib.h>

/* Keep in step with TAIL_MAGIC in samples/build-samples. */
static const CHAR8 kTailMagic[] = "OVA2VIRT:DISK-END";
#define TAIL_MAGIC_LEN (sizeof(kTailMagic) - 1)

/* The backup GPT: a header in the last block, 16 KiB of entries before it. */
#define GPT_ENTRIES_BYTES (128 * 128)

/* Returns the block I/O protocol of the whole disk holding |partition|, or
   NULL: the disk is the handle that owns the partition's device path minus
   its last node (the hard-drive media node). */
static EFI_BLOCK_IO* ParentDisk(EFI_HANDLE partition) {
  EFI_DEVICE_PATH* path = DevicePathFromHandle(partition);
  if (path == NULL) return NULL;
  EFI_DEVICE_PATH* copy = DuplicateDevicePath(path);
  if (copy == NULL) return NULL;
  /* Cut the path before its last node. */
  EFI_DEVICE_PATH *node = copy, *last = NULL;
  while (!IsDevicePathEnd(node)) {
    last = node;
    node = NextDevicePathNode(node);
  }
  EFI_BLOCK_IO* disk = NULL;
  if (last != NULL && DevicePathType(last) == MEDIA_DEVICE_PATH &&
      DevicePathSubType(last) == MEDIA_HARDDRIVE_DP) {
    SetDevicePathEndNode(last);
    EFI_DEVICE_PATH* rest = copy;
    EFI_HANDLE handle;
    if (!EFI_ERROR(uefi_call_wrapper(BS->LocateDevicePath, 3, &BlockIoProtocol,
                                     &rest, &handle)) &&
        IsDevicePathEnd(rest)) {
      uefi_call_wrapper(BS->HandleProtocol, 3, handle, &BlockIoProtocol,
                        (void**)&disk);
    }
  }
  FreePool(copy);
  return disk;
}

/* Reads block |lba| of |disk| into |buffer| (one block). */
static EFI_STATUS ReadBlock(EFI_BLOCK_IO* disk, EFI_LBA lba, void* buffer) {
  return uefi_call_wrapper(disk->ReadBlocks, 5, disk, disk->Media->MediaId, lba,
                           disk->Media->BlockSize, buffer);
}

/* Returns TRUE when the disk's last block is a GPT header ("EFI PART") and
   the block before the backup entries begins with the tail magic. */
static BOOLEAN DiskEndIntact(EFI_BLOCK_IO* disk) {
  UINT32 block = disk->Media->BlockSize;
  if (block < 512 || GPT_ENTRIES_BYTES % block != 0) return FALSE;
  EFI_LBA entries = GPT_ENTRIES_BYTES / block;
  if (disk->Media->LastBlock <= entries + 1) return FALSE;
  UINT8* buffer = AllocatePool(block);
  if (buffer == NULL) return FALSE;
  BOOLEAN ok = !EFI_ERROR(ReadBlock(disk, disk->Media->LastBlock, buffer)) &&
               CompareMem(buffer, "EFI PART", 8) == 0 &&
               !EFI_ERROR(ReadBlock(disk, disk->Media->LastBlock - entries - 1,
                                    buffer)) &&
               CompareMem(buffer, kTailMagic, TAIL_MAGIC_LEN) == 0;
  FreePool(buffer);
  return ok;
}

EFI_STATUS EFIAPI efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE* system_table) {
  InitializeLib(image, system_table);

  BOOLEAN ok = FALSE;
  EFI_LOADED_IMAGE* loaded = NULL;
  if (!EFI_ERROR(uefi_call_wrapper(BS->HandleProtocol, 3, image,
                                   &LoadedImageProtocol, (void**)&loaded))) {
    EFI_BLOCK_IO* disk = ParentDisk(loaded->DeviceHandle);
    ok = disk != NULL && DiskEndIntact(disk);
  }
  /* gnu-efi's Print turns each "\n" into "\r\n". */
  Print(L"\nova2virt sample: booted by UEFI, disk end %s\n",
        ok ? L"intact" : L"WRONG");
  Print(ok ? L"OVA2VIRT-BOOT-OK\n" : L"OVA2VIRT-BOOT-FAIL\n");

  uefi_call_wrapper(RT->ResetSystem, 4, EfiResetShutdown, EFI_SUCCESS, 0, NULL);
  return EFI_SUCCESS; /* not reached */
}
