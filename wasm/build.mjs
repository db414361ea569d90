// placeholder: replaced by the kernel build
