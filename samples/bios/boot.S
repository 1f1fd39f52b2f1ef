/*
 * ova2virt sample: a master boot record that needs no operating system.
 *
 * The BIOS loads this sector at 0000:7c00 and jumps here with the boot drive
 * in DL. The code
 *   1. initialises the first serial port (COM1, I/O 0x3f8) at 115200 8N1;
 *   2. asks the BIOS for the disk's size (INT 13h AH=48h), reads its very
 *      last sector (INT 13h AH=42h) and checks that it begins with TAIL_MAGIC,
 *      so a conversion that loses or shifts the end of the disk shows up as a
 *      failed boot, not as a silent success;
 *   3. prints "OVA2VIRT-BOOT-OK" (or "OVA2VIRT-BOOT-FAIL") on COM1;
 *   4. powers the machine off through ACPI: it writes SLP_EN with SLP_TYP 0
 *      (QEMU's _S5) to PM1a_CNT, the PM I/O base + 4.
 *
 * Where PM1a_CNT lives is up to the firmware, which programs the PM base
 * register (offset 0x40 in the PCI configuration space) of the chipset's
 * power-management function: the ICH9 LPC bridge 8086:2918 on q35, the PIIX4
 * PM function 8086:7113 on pc/i440fx. SeaBIOS uses PORT_ACPI_PM_BASE 0xb000
 * (src/hw/ioport.h, written by piix4_pm_setup in src/fw/pciinit.c) but moves
 * it to 0x600 when QEMU supplies its own ACPI tables (fw_cfg file
 * "etc/table-loader", src/fw/paravirt.c), as every QEMU since 1.7 does;
 * OVMF uses 0x600 too. Measured with QEMU 7.2 and SeaBIOS 1.16.2: PM1a_CNT
 * is 0x604 on both q35 and pc, and 0xb004 powers off neither. So the code
 * reads the base from whichever of the two functions it finds on PCI bus 0
 * (that also covers other slots: VMware puts its PIIX4 at 00:07.3), and then
 * falls back to both fixed ports, 0x604 and the old 0xb004.
 *
 * Assemble: as --32 -o boot.o boot.S
 * Link:     ld -m elf_i386 --oformat binary -Ttext 0x7c00 -e start -o boot.bin boot.o
 * The result is at most 440 bytes: build-samples places it in front of the
 * disk signature and the partition table.
 */
        .code16
        .text
        .globl  start

        .set    COM1, 0x3f8
        .set    BUF, 0x8000             /* sector buffer, free conventional memory */
        .set    PARAMS, 0x7e00          /* INT 13h AH=48h result buffer */

start:
        cli
        xorw    %ax, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        movw    $0x7c00, %sp
        ljmp    $0, $normalised         /* some BIOSes enter at 07c0:0000 */
normalised:
        sti
        cld
        movb    %dl, drive

        /* COM1: no interrupts, DLAB on, divisor 1 (115200), 8N1, FIFOs on,
           DTR and RTS up. */
        movw    $COM1+1, %dx
        xorb    %al, %al
        outb    %al, %dx
        movw    $COM1+3, %dx
        movb    $0x80, %al
        outb    %al, %dx
        movw    $COM1, %dx
        movb    $1, %al
        outb    %al, %dx
        incw    %dx                     /* COM1+1: divisor high byte */
        xorb    %al, %al
        outb    %al, %dx
        movw    $COM1+3, %dx
        movb    $0x03, %al
        outb    %al, %dx
        decw    %dx                     /* COM1+2: FIFO control */
        movb    $0xc7, %al
        outb    %al, %dx
        movw    $COM1+4, %dx
        movb    $0x03, %al
        outb    %al, %dx

        /* Disk size in sectors (EDD 1.x: a 0x1a-byte buffer). */
        movw    $PARAMS, %si
        movw    $0x1a, (%si)
        movb    $0x48, %ah
        movb    drive, %dl
        int     $0x13
        jc      failed
        /* Last LBA = total - 1, as 64 bits in the disk address packet. */
        movl    PARAMS+0x10, %eax
        movl    PARAMS+0x14, %edx
        subl    $1, %eax
        sbbl    $0, %edx
        movl    %eax, dap_lba
        movl    %edx, dap_lba+4
        movw    $dap, %si
        movb    $0x42, %ah
        movb    drive, %dl
        int     $0x13
        jc      failed
        movw    $BUF, %di
        movw    $tail_magic, %si
        movw    $TAIL_MAGIC_LEN, %cx
        repe cmpsb
        jne     failed

        movw    $msg_ok, %si
        jmp     report
failed:
        movw    $msg_fail, %si
report:
        pushw   %si
        movw    $msg_head, %si
        call    puts
        popw    %si
        call    puts

        /* Power off: scan PCI bus 0 (configuration mechanism 1) for the ICH9
           LPC bridge or the PIIX4 PM function and use its PM base. */
        xorl    %ebx, %ebx
scan:
        movl    %ebx, %eax
        shll    $8, %eax
        orl     $0x80000000, %eax
        movl    %eax, %esi              /* device/function address */
        call    pci_read
        cmpl    $0x29188086, %eax       /* ICH9 LPC */
        je      found
        cmpl    $0x71138086, %eax       /* PIIX4 PM */
        jne     next
found:
        movl    %esi, %eax
        orb     $0x40, %al              /* PMBASE register */
        call    pci_read
        andw    $0xffc0, %ax
        addw    $4, %ax
        call    sleep_s5
next:
        incw    %bx
        cmpw    $256, %bx
        jb      scan
        /* Not found, or the write did nothing: the usual fixed places. */
        movw    $0x604, %ax
        call    sleep_s5
        movw    $0xb004, %ax
        call    sleep_s5
halt:
        cli
        hlt
        jmp     halt

/* pci_read: EAX = configuration address; returns the dword in EAX. */
pci_read:
        movw    $0xcf8, %dx
        outl    %eax, %dx
        movw    $0xcfc, %dx
        inl     %dx, %eax
        ret

/* sleep_s5: AX = PM1a_CNT port; writes SLP_EN | SLP_TYP(0). */
sleep_s5:
        movw    %ax, %dx
        movw    $0x2000, %ax
        outw    %ax, %dx
        ret

/* puts: DS:SI = NUL-terminated string, to COM1 only. Not also through
   INT 10h: with -nographic SeaBIOS copies INT 10h text to the same serial
   port (its "sercon"), and the two copies interleave character by character,
   garbling the marker. */
puts:
        lodsb
        testb   %al, %al
        jz      puts_done
        movb    %al, %ah
        movw    $COM1+5, %dx            /* line status: wait for THR empty */
wait_thr:
        inb     %dx, %al
        testb   $0x20, %al
        jz      wait_thr
        movb    %ah, %al
        movw    $COM1, %dx
        outb    %al, %dx
        jmp     puts
puts_done:
        ret

drive:  .byte   0x80
        .balign 4
dap:    .byte   0x10, 0                 /* packet size, reserved */
        .word   1                       /* sectors */
        .word   BUF, 0                  /* buffer offset, segment */
dap_lba:
        .long   0, 0

/* The last sector of the disk must begin with this; build-samples writes it
   (keep the two in step: samples/build-samples, TAIL_MAGIC). */
tail_magic:
        .ascii  "OVA2VIRT:DISK-END"
        .set    TAIL_MAGIC_LEN, . - tail_magic

msg_head:
        .asciz  "\r\nova2virt sample: booted by BIOS, last sector "
msg_ok:
        .asciz  "intact\r\nOVA2VIRT-BOOT-OK\r\n"
msg_fail:
        .asciz  "WRONG\r\nOVA2VIRT-BOOT-FAIL\r\n"
